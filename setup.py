"""The one compiled part, the exact stage's join (`src/lettrage/recon/matching/window_join.py` says
why); everything else is in pyproject.toml."""

from setuptools import Extension, setup

setup(ext_modules=[Extension("lettrage.recon.matching._window_join",
                             sources=["src/lettrage/recon/matching/_window_join.c"],
                             extra_compile_args=["-O3"])])
