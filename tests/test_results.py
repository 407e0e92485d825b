"""labkit.results: the README's figures come from a recorded run's run.json files."""

import json

import pytest

from labkit import cli, results


def write_run(out, stem, **record):
    (out / stem).mkdir(parents=True)
    (out / stem / "run.json").write_text(json.dumps(record))


def test_markdown_quotes_the_recorded_headlines_date_and_machine(tmp_path):
    write_run(tmp_path, "01_a", profile="quick", status="ok", runner_seconds=12.4, finished="2026-12-02T07:00:00",
              machine={"platform": "Linux-x86_64", "cpus": 2}, device="cpu", headlines=["none 0.59; under 0.73"],
              versions={"labkit": "0.1.0", "torch": "2.14"})
    write_run(tmp_path, "02_b", profile="quick", status="failed", runner_seconds=3.0, headlines=[])
    text = results.results_markdown(tmp_path)
    assert "profile **quick**" in text and "2026-12-02" in text and "Linux-x86_64, 2 CPUs" in text
    assert "- **01_a** (12 s): none 0.59; under 0.73" in text
    assert "- **02_b** (3 s, FAILED): no headline recorded." in text
    assert text.index("01_a") < text.index("02_b")


def test_update_readme_replaces_only_the_marked_block(tmp_path):
    write_run(tmp_path / "out", "01_a", profile="smoke", headlines=["h1", "h2"], runner_seconds=1.0)
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{results.START}\nold figures\n{results.END}\nafter\n")
    assert cli.main(["readme", "--out", str(tmp_path / "out"), "--readme", str(readme)]) == 0
    text = readme.read_text()
    assert text.startswith("intro\n") and text.endswith(f"{results.END}\nafter\n")
    assert "old figures" not in text and "  - h2" in text


def test_bad_inputs_name_the_parameter(tmp_path):
    with pytest.raises(ValueError, match="out_dir"):
        results.read_runs(tmp_path / "missing")
    with pytest.raises(ValueError, match="out_dir"):
        results.read_runs(tmp_path)
    write_run(tmp_path, "01_a", headlines=[])
    readme = tmp_path / "R.md"
    readme.write_text("no markers")
    with pytest.raises(ValueError, match="readme"):
        results.update_readme(readme, tmp_path)
