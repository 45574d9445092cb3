"""Settings for a command's one short process, made before anything imports numpy
(``cli/__init__`` imports this module first).

numpy's OpenBLAS starts a thread per core when numpy is imported (measured 10-60 ms of a command's
~0.3 s start on 2 shared cores, and ~a few ms more to stop them at exit); no command multiplies
matrices large enough to gain from them. A value the user set wins. The app, which starts without
the CLI module (``journey_explorer.__main__``), keeps its threads.
"""
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
