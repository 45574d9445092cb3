"""Journey Explorer: an offline customer-journey explorer."""
__version__ = "0.1.0"
