"""labkit.models: shapes, normalisation, the torchvision stem adaptation and the autoencoder."""

import pytest
import torch
import torchvision
from torch import nn

from labkit import models, train


@pytest.mark.parametrize("size", [28, 32])
@pytest.mark.parametrize(
    "make, channels",
    [(lambda c: models.small_cnn(in_channels=c, width=8), 1),
     (lambda c: models.small_cnn(in_channels=c, width=8), 3),
     (lambda c: models.cifar_resnet(8, in_channels=c), 1),
     (lambda c: models.cifar_resnet(8, width=2, in_channels=c), 3),
     (lambda c: models.torchvision_resnet("resnet18", in_channels=c), 3)],
)
def test_classifiers_map_images_to_logits(make, channels, size):
    model = make(channels).eval()
    with torch.no_grad():
        out = model(torch.rand(2, channels, size, size))
    assert out.shape == (2, 10)
    assert isinstance(model.fc, nn.Linear) and model.fc.out_features == 10


def test_resnet_depths_and_widths():
    r8, r20 = models.cifar_resnet(8), models.cifar_resnet(20)
    n8 = sum(p.numel() for p in r8.parameters())
    n20 = sum(p.numel() for p in r20.parameters())
    assert 0.26e6 < n20 < 0.28e6  # He et al.: ResNet-20 has 0.27 M parameters
    assert n8 < n20
    assert len(r20.layer1) == 3 and len(r8.layer1) == 1
    assert models.cifar_resnet(8, width=2).fc.in_features == 128
    with pytest.raises(ValueError, match="depth"):
        models.cifar_resnet(10)
    with pytest.raises(ValueError, match="depth"):
        models.cifar_resnet(2)


def test_normalize_is_part_of_the_model_and_its_state():
    model = models.small_cnn(width=4)
    state = model.state_dict()
    assert torch.allclose(state["normalize.mean"].flatten(), torch.tensor(models.FASHION_MNIST_MEAN))
    x = torch.rand(3, 1, 28, 28)
    expected = (x - models.FASHION_MNIST_MEAN[0]) / models.FASHION_MNIST_STD[0]
    torch.testing.assert_close(model.normalize(x), expected)
    custom = models.small_cnn(in_channels=3, width=4, mean=(0.1, 0.2, 0.3), std=(1, 2, 3))
    assert custom.normalize.std.flatten().tolist() == [1, 2, 3]
    with pytest.raises(ValueError, match="std"):
        models.Normalize((0.5,), (0.0,))
    with pytest.raises(ValueError, match="std"):
        models.Normalize((0.5, 0.5), (0.2,))
    with pytest.raises(ValueError, match="expected images"):
        model(torch.rand(2, 3, 28, 28))


def test_bad_model_arguments():
    with pytest.raises(ValueError, match="num_classes"):
        models.small_cnn(num_classes=1)
    with pytest.raises(TypeError, match="width"):
        models.small_cnn(width=2.5)
    with pytest.raises(ValueError, match="arch"):
        models.torchvision_resnet("vgg16")
    with pytest.raises(ValueError, match="image_size"):
        models.conv_autoencoder(image_size=30)


def test_torchvision_resnet_small_input_stem():
    small = models.torchvision_resnet("resnet18", in_channels=1, small_input=True)
    assert small.conv1.stride == (1, 1) and small.conv1.kernel_size == (3, 3)
    assert isinstance(small.maxpool, nn.Identity)
    assert small.conv1.in_channels == 1
    big = models.torchvision_resnet("resnet18", small_input=False)
    assert big.conv1.stride == (2, 2) and isinstance(big.maxpool, nn.MaxPool2d)
    # torchvision's parameter names are kept
    assert "layer4.1.conv2.weight" in dict(small.named_parameters())


def test_torchvision_resnet_passes_weights_through_and_keeps_the_pretrained_stem(monkeypatch):
    calls = []
    real_resnet18 = torchvision.models.resnet18

    def fake_resnet18(*, weights):
        calls.append(weights)
        torch.manual_seed(0)
        return real_resnet18(weights=None)

    torch.manual_seed(0)
    reference = real_resnet18(weights=None)
    monkeypatch.setattr(torchvision.models, "resnet18", fake_resnet18)
    rgb = models.torchvision_resnet("resnet18", weights="IMAGENET1K_V1")
    gray = models.torchvision_resnet("resnet18", in_channels=1, weights="IMAGENET1K_V1")
    assert calls == ["IMAGENET1K_V1", "IMAGENET1K_V1"]
    assert rgb.conv1.kernel_size == (7, 7) and rgb.conv1.stride == (1, 1)
    torch.testing.assert_close(rgb.conv1.weight, reference.conv1.weight)
    torch.testing.assert_close(gray.conv1.weight, reference.conv1.weight.sum(1, keepdim=True))
    torch.testing.assert_close(rgb.layer1[0].conv1.weight, reference.layer1[0].conv1.weight)
    assert rgb.normalize.mean.flatten().tolist() == pytest.approx(list(models.IMAGENET_MEAN))
    # a grey image through the 1-channel stem equals the RGB stem on the grey image copied 3 times
    g = torch.rand(2, 1, 8, 8)
    torch.testing.assert_close(gray.conv1(g), rgb.conv1(g.expand(-1, 3, -1, -1)), rtol=1e-4, atol=1e-5)


def test_conv_autoencoder_encoder_decoder_and_training():
    ae = models.conv_autoencoder(latent_dim=16, width=8)
    x = torch.rand(4, 1, 28, 28)
    z = ae.encoder(x)
    assert z.shape == (4, 16) and ae.latent_dim == 16
    recon = ae.decoder(z)
    assert recon.shape == x.shape and recon.min() >= 0 and recon.max() <= 1
    assert isinstance(ae.encoder[0], models.Normalize)
    assert models.conv_autoencoder(in_channels=3, image_size=32, width=4)(torch.rand(2, 3, 32, 32)).shape == (
        2, 3, 32, 32)
    # reconstruction loss goes down when trained through labkit.train.fit
    g = torch.Generator().manual_seed(0)
    X = (torch.rand(64, 1, 28, 28, generator=g) * 255).to(torch.uint8)
    torch.manual_seed(0)
    ae = models.conv_autoencoder(latent_dim=16, width=8)
    before = train.evaluate(ae, (X, X), loss_fn=train.reconstruction_loss, device="cpu")["loss"]
    h = train.fit(ae, (X, X), epochs=5, lr=3e-3, batch_size=16, optimizer="adamw",
                  loss_fn=train.reconstruction_loss, progress=False, device="cpu", random_state=0)
    after = train.evaluate(ae, (X, X), loss_fn=train.reconstruction_loss, device="cpu")["loss"]
    assert after < before
    assert h["train_acc"].isna().all()
    # the encoder with a linear head is a classifier
    clf = nn.Sequential(ae.encoder, nn.Linear(ae.latent_dim, 10))
    assert clf(torch.rand(2, 1, 28, 28)).shape == (2, 10)


@pytest.mark.parametrize("kwargs, name", [
    (dict(mean=(float("nan"),), std=(0.3,)), "mean"), (dict(mean=(0.5,), std=(float("inf"),)), "std"),
    (dict(mean=(0.5,), std=(-1.0,)), "std"), (dict(mean="0.5", std=(0.3,)), "mean"),
    (dict(mean=(), std=()), "mean")])
def test_normalize_and_models_refuse_bad_statistics(kwargs, name):
    with pytest.raises((ValueError, TypeError), match=name):
        models.Normalize(**kwargs)
    with pytest.raises((ValueError, TypeError), match=name):
        models.small_cnn(width=4, **kwargs)


def test_model_arguments_are_checked_by_type():
    with pytest.raises(TypeError, match="small_input"):
        models.torchvision_resnet("resnet18", small_input="no")
    with pytest.raises(TypeError, match="in_channels"):
        models.cifar_resnet(8, in_channels=True)
    with pytest.raises(ValueError, match="mean and std"):
        models.small_cnn(in_channels=3, width=4, mean=(0.5,), std=(0.2,))
    with pytest.raises(ValueError, match="in_channels must be 1 or 3"):
        models.torchvision_resnet("resnet18", in_channels=2, weights="DEFAULT")  # refused before any download
