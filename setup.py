"""The compiled parts: the exact stage's join (`src/lettrage/recon/matching/window_join.py` says
why) and text columns read from Arrow's buffers (`_text.c`); everything else is in pyproject.toml."""

from setuptools import Extension, setup

setup(ext_modules=[Extension(f"lettrage.recon.matching.{name}", sources=[f"src/lettrage/recon/matching/{name}.c"],
                             extra_compile_args=["-O3"])
                   for name in ("_window_join", "_text")])
