"""Journey Explorer: an offline customer-journey explorer."""
import time

__version__ = "0.1.0"
STARTED_AT = time.perf_counter()     # the first moment our code runs (the smoke test's cold-start clock)
