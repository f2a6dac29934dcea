"""Speed benchmark: the original tutorial's code path against ours, on the same model (m3e-small) and data.

Run it with ``make bench`` or ``python -m benchmarks --size tiny --out /tmp/bench`` (see ``__main__``). Modules:
``timing`` (measuring helpers and the machine probe), ``tutorial`` (the original tutorial's code path), one module
per section of the report (``training``, ``scoring``, ``ranking``, ``gpu``, ``paper``, ``precision``) and
``report`` (the markdown). In the report and ``bench.json``, "seed" names the original tutorial's side of a comparison.
"""
