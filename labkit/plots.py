"""Plots shared by the notebooks (matplotlib; no global rcParams changes)."""
