"""Retention, lifecycle and compare against DuckDB answering the same question, in one run (issue 16).

    python benchmarks/bench_speed.py --events 1000000 --workdir /tmp/speed-bench
    python benchmarks/bench_speed.py --events 1000000 --workdir /tmp/speed-bench --snapshot before.pkl
    python benchmarks/bench_speed.py --events 1000000 --workdir /tmp/speed-bench --check before.pkl

The same synthetic CSV is imported as a project (ours) and loaded into an in-memory DuckDB table with
the timestamp as integer milliseconds (so both sides do integer period arithmetic). Before timing,
each DuckDB answer is checked equal to ours (retention curve and cohort sizes, the lifecycle table,
compare's distinct-user counts per event, transition and 3-event sequence). ``--snapshot`` stores
our results, ``--check`` compares a later run's results with a stored snapshot (a change must not
move a number). Each side is timed as the best of ``--repeat`` warm runs.

Measured (issue 16, 2 shared cores, load 4-7, so DuckDB's own times vary 0.4-1.6 s between runs):
1M before: retention 0.548 s (1.25x DuckDB), lifecycle 0.692 s (1.01x), compare 1.985 s (0.77x);
1M after: retention 0.126 s, lifecycle 0.103 s, compare 0.586 s (0.10x, 0.08x, 0.14x in that run);
10M after: retention 1.91 s (0.24x), lifecycle 2.02 s (0.33x), compare 8.73 s (0.22x).

Interval, north star and stuck points (their DuckDB SQL below, checked equal: interval's users,
repeaters, gaps and 80th percentile; north star's breadth, depth, frequency and efficiency per week;
stuck's per-event failing/successful users, endings, visit exits and loops), same numbers as before
the change (--check). Load average 5-6 on 2 cores in both runs:
1M: interval 0.008 s (0.03x), north star 0.073 s (0.08x), stuck 1.22 s (0.18x); retention 0.06x,
lifecycle 0.06x, compare 0.09x. 10M: interval 0.19 s (0.09x), north star 1.55 s (0.26x), stuck 30.6 s
(0.56x), retention 0.17x, lifecycle 0.11x.

``changes`` (``changes_sql``: the counts it scans, checked equal series by series before timing: its
weeks and trimmed edge weeks, per event its rate and share of active users, new users, the 400 most
frequent censored transitions, the sequential funnel's censored steps; ``--only changes changes_counts``),
1M, load 3.5, same numbers as before this pass (--check): the whole analysis (scan, stories, who they
hit) 0.99 s, 0.41x DuckDB's 2.43 s for the counts alone; our counts alone 0.40 s (0.16x).

``--cli``: whole processes at 1M, median of 3, the same run for both sides (before -> after this
change): retention 1.41x -> 0.60x, lifecycle 0.66x -> 1.13x (noise: DuckDB's own time moved
3.4 -> 2.0 s), interval 4.59x -> 0.96x, north star 1.70x -> 2.33x, stuck 1.07x -> 0.85x,
graph 9.45x -> 2.17x (14.9 s -> 3.6 s: variants no longer joined per path in pandas).
North star, third pass (CSAT/revenue looked up by the user property names, no user property read,
no pandas; before/after/DuckDB interleaved, 7 rounds, load 4-5): 3.78 s -> 1.98 s against DuckDB's
1.86 s, 2.03x -> 1.06x (median of the per-round ratios 2.09x -> 1.17x). What is left: numpy's import
and reading the cached arrays (~0.3-0.6 s at this load).

``--cli``, fourth pass (whole process, 1M; ``--before DIR`` = the previous commit, timed in the same
interleaved rounds; medians of the per-round ratios). Changed here: the timed processes run outside
any checkout (``python -m`` puts the working directory first on sys.path, so a run from a worktree
timed that worktree whatever PYTHONPATH said) and may write bytecode (PYTHONDONTWRITEBYTECODE made
every run recompile ~30 of our modules, 0.1-0.2 s, which an installed package never does). Lifecycle
and retention keep their tables as numpy columns and graph counts variants and scores the goal
guess without pandas (no pandas import: ~0.5 s); per-key quantiles and medians come from partial
sorts (a np.quantile call per edge cost ~0.5 s); same numbers (--check, DuckDB checks, CLI JSON and
CSV compared byte for byte with the previous commit's on the demo and at 1M).
7 rounds, load 3.5-5.4: retention 0.91x -> 0.56x, lifecycle 0.95x -> 0.51x, graph 1.91x -> 1.12x
(3.15 s -> 2.05 s against DuckDB's 1.75 s), stuck 1.04x -> 0.84x, north star 0.89x -> 0.95x and
interval 1.24x -> 1.30x (unchanged code: noise), changes 0.93x -> 1.00x (3.8 s against DuckDB's
3.8 s; ~2 s of ours is importing scipy.stats and pandas for the scan and who-it-hit).
9 rounds, load 1.7-2.0 (DuckDB's threads get both cores): graph 2.36x -> 1.41x (1.61 s -> 0.92 s
against 0.63 s), lifecycle 1.20x -> 0.58x, north star 1.03x -> 0.99x. Graph's 0.92 s: Python and
numpy ~0.2 s, networkx's import ~0.1 s, loading the project ~0.15 s (pyarrow's import included),
the goal guess ~0.12 s, node and edge statistics ~0.12 s, variants ~0.1 s.

``--cli``, fifth pass (issue 16; ``--before`` = main at 2fba36e, same interleaved rounds). No scipy on
any command's path (``analysis/pvalues.py``: Fisher's exact tests as R's phyper with Loader's binomial
densities, scipy's ndtr, the asymptotic Mann-Whitney U, P(F(1, df) > s) by the incomplete beta's
continued fraction; importing scipy.stats was ~1 s of stuck, scipy.special ~0.3 s of changes), no
networkx in graph (a plain-dict graph with networkx's orders and shortest path), variants grouped by
64-bit words, the event log decoding only its four columns, interval's percentiles without
np.quantile (its np.unique imported numpy.ma), changes' refined columns written once. The CLI's JSON
(and CSV) is byte-identical to main's on the demo and at 1M for graph, interval, northstar,
retention, lifecycle, funnel, flows, overview and hygiene; stuck, changes, compare and drivers differ
only in p- and q-values' last digits (at most 4e-11 relatively: scipy's boost drifts that far at
counts near 1e5, ours stays ~1e-14 of the exact fraction); in-process numbers unchanged (--check
against a snapshot of main). The machine was shared (load 2.4-3.3; DuckDB's own times 1.5-2x this
morning's quiet ones), so the same-run times matter more than the ratios:
7 rounds, load 2.4-3.2: stuck 2.74 s -> 1.50 s (per round 0.95x -> 0.47x DuckDB), graph 1.16 s ->
0.86 s (1.02x -> 0.77x), interval 0.45 s -> 0.43 s (1.08x -> 1.16x, noise), north star 0.40 s ->
0.44 s (0.79x -> 0.82x, noise), changes 2.03 s -> 1.97 s (0.57x -> 0.57x); changes alone, 9 rounds,
load 3.1: 2.63 s -> 2.19 s (0.74x -> 0.67x). 5 rounds, load 2.6-3.3: stuck 1.70 s -> 0.95 s (0.92x ->
0.47x), graph 0.82 s -> 0.62 s (1.18x -> 0.96x), changes 1.90 s -> 1.37 s (0.75x -> 0.58x). 5 rounds,
load 2.0-3.0: stuck 2.81 s -> 1.47 s (0.94x -> 0.47x), graph 1.09 s -> 0.91 s (0.87x -> 0.76x), changes
2.17 s -> 1.89 s (0.60x -> 0.54x), interval 0.41 s both (1.16x -> 1.21x), north star 0.42 s -> 0.44 s.
Scaled by those time ratios, this morning's quiet figures (stuck 1.49x, graph 1.60x, changes 1.10x)
become about stuck 0.8x, graph 1.2x, changes 0.85x. Graph's remainder: Python and numpy ~0.2 s,
loading the project ~0.08-0.15 s, the goal guess ~0.1 s, node and edge statistics ~0.1 s (two
threads), variants ~0.08 s.
After merging (with the insight changes of the same day: stuck's per-visit checks, the goal's amount),
quiet machine, 5 interleaved rounds, load 0.7-1.1, medians against DuckDB: stuck 1.22 s vs 1.41 s
(0.86x), changes 1.28 s vs 1.49 s (0.86x), north star 0.30 s vs 0.34 s (0.89x), retention 0.67x,
lifecycle 0.62x; still over: graph 0.61 s vs 0.55 s (1.10x), interval 0.29 s vs 0.25 s (1.15x) — the
floor of Python, numpy and opening the project (user ids ~22 ms, the cache's blobs ~15-40 ms).

``--cli``, sixth pass (issue 16: graph and interval; ``--before`` = the branch's start, cf1ad71, timed in
the same interleaved rounds on the same project, imported by this code). Profiled first (-X importtime,
cProfile, py-spy, per-phase clocks): of interval's run, loading was ~0.1 s (pyarrow's import, every
cached blob read and checked, user ids split), numpy's import 0.1-0.15 s of which OpenBLAS starting a
thread per core 10-60 ms, the garbage collector ~25 ms while modules loaded and ~30 ms of the ~45 ms
exit. Changed: a load reads and checks only the cache columns it decodes (a CRC-32 per column beside
the one over all, which older versions verify; a file from before is checked whole until its next
import or repair), through a memory map while it reads; user ids are split only when used
(``LazyUserKeys``); a part zstd cannot shrink (times' low 32 bits) is stored as it is; the CLI builds
only its command's parser, starts no OpenBLAS threads, and keeps its loaded modules out of the
collector's passes (``cli/one_process.py``: exit ~45 ms -> ~13 ms); graph's variants run beside the
map's two halves, the goal guess's visit ends beside its pairs. Same numbers: --check against a
snapshot of cf1ad71; every analysis' CLI JSON and CSV byte-identical to cf1ad71's on the demo and at
1M (a project written before this change and one written by it; cf1ad71 reads the new one).
No quiet machine today (other helpers kept a core busy), so before and after in the same rounds:
5 rounds, load 1.4-1.8: interval 0.416 s -> 0.321 s (1.18x -> 0.91x DuckDB; per round 1.26x ->
0.83x), graph 0.802 s -> 0.688 s (1.08x -> 0.93x; 1.07x -> 0.86x), retention 0.58x -> 0.54x,
lifecycle 0.75x -> 0.61x, north star 1.01x -> 0.89x, stuck 0.87x -> 0.72x, changes 1.00x -> 0.94x.
9 rounds, load 1.3: interval 0.378 s -> 0.283 s (1.19x -> 0.89x; per round 1.27x -> 0.84x), graph
0.795 s -> 0.646 s (1.14x -> 0.93x; 1.17x -> 0.97x). With the goal guess's second thread, 9 rounds,
load 1.3-1.4: interval 0.423 s -> 0.349 s (1.14x -> 0.94x; 1.22x -> 0.89x), graph 0.860 s -> 0.700 s
(1.14x -> 0.93x; 1.11x -> 0.94x). What is left: Python, numpy and pyarrow's imports (~0.15 s), decoding
four 1M columns (~0.03-0.05 s, most of it first-touch of fresh memory), graph's goal guess ~0.1 s.
A project imported before per-column checksums (an old ``--workdir``'s) is checked whole: delete it to
time what an import writes now.

``--cli``, seventh pass (issue 16: graph reliably under DuckDB; ``--before`` = main at f192eed, timed in
the same interleaved rounds on the same 1M project). Profiled first (py-spy ``-r 1000``, -X importtime,
per-phase clocks): of graph's ~0.6 s, the goal guess ~0.1 s (pairs, lateness medians), variants ~0.09 s
CPU (a lexsort of every path's 64-bit words, a two-index fill of the byte matrix), ~3,000 numpy
``isnan``/``float`` calls rounding edge values, the node statistics grouping the events a second time
for paths per event, and ~3 ms importing the map's layout. Changed: the goal guess is kept with the
project (``store.project.remember_goal_guess``: a settings row keyed by the cached columns' checksums,
the catalog's, the detail rules, the sources and ``goals.GUESS_RULES``; written after the answer,
only when no process writes the project and only for the unfiltered log; undo-import ignores it) and
read by the next command instead of guessing; variants sort the paths that fit in one word apart from
the few longer ones (``variants.word_order``); the rest as above. The first run after an import still
guesses, then keeps the guess (its write is paid by the faster variants: see below). Same numbers: --check against a snapshot of
f192eed; every analysis' CLI JSON byte-identical to f192eed's on the demo (with and without a stored
goal) and at 1M, on the first run (guessing) and the next (reading the kept guess).
7 rounds, load 1.7-2.0 (other helpers' test suites running; DuckDB's own graph time 0.75 s against
0.53 s on a quiet machine): graph 0.590 s -> 0.438 s (0.79x -> 0.59x DuckDB; per round 0.79x ->
0.64x), interval 0.284 s -> 0.279 s (0.92x -> 0.91x), stuck 1.181 s -> 1.200 s (0.45x both), changes
1.527 s -> 1.610 s (0.87x -> 0.91x; code unchanged for both: noise). The first graph run after an
import (no guess kept; fresh copies of the project, 7 alternated rounds, load 2.3): 0.655 s before,
0.646 s after. At this morning's quiet figures (graph 0.59 s against DuckDB's 0.53 s) the same
saving puts graph near 0.44 s, ~0.85x. What is left: Python, numpy and pyarrow's imports (~0.13-0.19 s,
the editable install's path finder ~15-35 ms of it), decoding four 1M columns (~0.05 s), the map's
statistics and variants (~0.2 s CPU on two cores).

``--only changes`` with the per-value funnel scan (branch chg; the project here has no properties, so
no per-value work): 1M, one run each side in one hold of the lock, load 2.4: 0.660 s -> 0.832 s against
DuckDB's 1.41 / 1.48 s (0.47x -> 0.56x), DuckDB's answers equal ours; the same work as before (noise).
With properties see ``bench_changes.py --properties``.

``--cli graph`` after the goal guess's follow-ups (goals.py ``_with_follow_ups``; ``--before`` = dd3a39b in
the same interleaved rounds). This log has no event that can host a follow-up (none late, once per path
and often ending a visit), so the guess adds one np.flatnonzero of the visit ends on its second thread:
9 rounds, load 1.6-1.7: graph 0.617 s -> 0.662 s (per round 0.90x -> 0.92x DuckDB's 0.746 s); again,
11 rounds, load 1.1: 0.594 s -> 0.591 s (per round 0.87x -> 0.88x DuckDB's 0.699 s): no change beyond
the rounds' spread. In process, interleaved medians: ``_score_parts`` at 1M events of this log 351 ms ->
348 ms (9 rounds, load 5); at 1M events from gen_j_health.py (three hosts) 195 ms -> 200 ms (15 rounds,
load 3.7-5.5), the follow-ups ~5 ms of it.

Events sent on a schedule left out of retention and the lifecycle (``automatic``, branch chg2; the
synthetic log has none, so the answers stay equal to DuckDB's): ``--only retention lifecycle``, 1M,
main (1b7a53e) then the branch in one hold of /tmp/bench.lock (load 5.9 -> 4.6), best of 3: retention
0.141 s -> 0.103 s, lifecycle 0.117 s -> 0.093 s (noise: the added pass is ~0.1-0.2 s at 0.5M in
process, 1.5 s at 2M events with 2,000 event types).

Survey after the insight work of 2 December (stuck's dead ends, what-changed's per-value scans and
warm-up/draining weeks, the goal guess's rules, the case-log session rule; main at 25b08e9, projects
imported by it). Two of DuckDB's answers first followed what the analyses now count: the session rule
takes this log for cases (every user's steps over 30 minutes apart), so stuck's visit ends are path
ends; changes leaves out the first 8 weeks (warm-up) of rates, shares and new users. Both checked
equal again. Nothing is over 1.0x; no analysis changed. The machine was shared all afternoon (load
4-10 on 2 cores, DuckDB's own times 1.5-3x this morning's), so the ratios are the figures to read:

    analysis     in process 1M            in process 10M            --cli 1M (5 rounds, medians)
                 ours / DuckDB   ratio    ours / DuckDB    ratio    ours / DuckDB   per round
    retention    0.064 / 1.11 s  0.06x    1.51 / 11.8 s    0.13x    0.77 / 2.08 s   0.39x
    lifecycle    0.058 / 1.16 s  0.05x    1.62 / 9.73 s    0.17x    0.68 / 2.11 s   0.32x
    compare      0.356 / 5.50 s  0.06x    6.49 / 43.4 s    0.15x    -
    interval     0.003 / 0.07 s  0.05x    0.07 / 1.12 s    0.06x    0.59 / 0.64 s   0.87x
    northstar    0.032 / 0.30 s  0.11x    0.61 / 4.70 s    0.13x    0.56 / 0.73 s   0.68x
    stuck        0.705 / 4.14 s  0.17x    22.4 / 28.6 s    0.78x    2.09 / 3.42 s   0.59x
    changes      0.731 / 3.83 s  0.19x    9.69 / 42.5 s    0.23x    2.56 / 5.57 s   0.52x
    (counts)     0.382 / 3.83 s  0.10x    8.34 / 42.5 s    0.20x
    graph        -                        -                         0.71 / 1.32 s   0.54x

In process: load 4.6-6.1 (1M), 5-7 (10M, --repeat 2); --cli: load 5.6-6.0. Stuck at 10M is the nearest
to DuckDB (30.6 s before at 0.56x, when DuckDB's SQL still worked out 30-minute visits); interval's
0.87x is the floor of starting Python, numpy and opening the project (see the sixth pass).

3 December, quiet machine (load < 1.2, nothing else running), main at 5b58220 + this session's commits. This machine is a
Firecracker VM: the first touch of memory the guest has not used lately costs ~10 ms per MB (an 80 MB
array: 0.85 s the first time, 12 ms once its pages are the process's), so an analysis at 10M spent more
time in page faults than computing (stuck: 26 s wall, 11 s user, 205,000 faults). The app and the CLI
now keep freed memory for reuse (``journey_explorer.memory``: glibc serves big arrays from the heap and
keeps what is freed; given back when a project closes); this script does the same. Changes: stuck's
"how successful users got past" by arrays (one row per path; was a Python walk, 15-20 s over 1.7M
paths at 10M); What changed's slow-transition cut-offs by one sort (a pass over the log per
transition, ~20 s at 10M); DuckDB's changes SQL censors slow transitions as What changed does since
5b4e75c (the check had failed). Every answer checked equal to DuckDB's before timing, best of 1 after
a warm run:

    analysis     in process 10M             --cli 1M (5 rounds, medians)
                 ours / DuckDB     ratio    ours / DuckDB     per round
    retention    1.349 / 3.154 s   0.43x    0.409 / 0.596 s   0.72x
    lifecycle    1.241 / 2.317 s   0.54x    0.406 / 0.553 s   0.76x
    compare      2.132 / 12.02 s   0.18x    -
    interval     0.022 / 0.175 s   0.13x    0.249 / 0.214 s   1.23x
    northstar    0.154 / 0.935 s   0.17x    0.507 / 0.355 s   1.58x
    stuck        10.07 / 15.01 s   0.67x    1.808 / 1.419 s   1.48x   (29.3 s / 14.8 s = 1.98x before)
    changes      4.947 / 49.75 s   0.10x    0.882 / 3.858 s   0.23x   (26.7 s before the one sort)
    (counts)     4.196 / 49.75 s   0.08x
    graph        (bench_analysis: 1.544 / 2.450 s, 0.63x; flows 1.232 / 2.290 s, 0.54x)   0.518 / 0.486 s   0.97x

Whole processes on a quiet machine are over for interval, north star and stuck: DuckDB's process
reading its own file takes 0.21-0.36 s here (0.64-0.73 s under load 5-6, when ours were 0.59x-0.87x).
Ours: starting Python and numpy ~0.16 s, the CLI's imports ~0.08 s, opening and decoding the project's
columns ~0.1 s (68 MB touched for 1M events), the analysis, and 0.2-0.4 s of system time in first
touches of memory that vary run to run (northstar 0.48-0.74 s wall for 0.25 s of user time).

3 December, session 21 (quiet machine, load < 1.3, a fresh VM; main at 226cbbd then this session's commits). Profiled
first (pyinstrument in a cold process, ``-X importtime``, /usr/bin/time's faults and system time). Changed:
north star's run was 90 % ``draining_from``, distinct active paths per week by a sort: keys that only rise
along each owner's rows (periods of a sorted log's times) are now counted where each (owner, key) run starts
(``arrays.distinct_count``), and medians there skip np.median's numpy.ma import (run 75 -> 35-49 ms cold);
every command's load decompresses with python-zstandard (imports in ~1 ms; pyarrow's codec cost ~35 ms:
load 53-90 -> 33-43 ms at 1M); stuck points import pandas on a thread while numpy computes (its helpers'
tables are numpy Columns; ``IMPORTS_AHEAD``), group the events once for every count, number the visits
once, sort the (visit, event) pairs of the exits' base rate plainly, and run that base rate, the dwell
times and their tests on a second thread; numpy no longer advises huge pages (``memory``: this VM's
transparent huge pages defragment on a fault: 0.3-0.9 s spikes of system time). Same numbers: --check
against 226cbbd, every DuckDB check, the CLI's stuck JSON byte-identical at 1M and on the demo, receipt,
sepsis and helpdesk, 8 commands' JSON on the demo. Best of 3 (1M) / of 1 after a warm run (10M):

    analysis     in process 1M             in process 10M            --cli 1M (7 rounds, medians)
                 ours / DuckDB    ratio    ours / DuckDB     ratio   ours / DuckDB     per round
    retention    0.088 / 0.185 s  0.47x    1.161 / 3.444 s   0.34x   0.272 / 0.448 s   0.66x
    lifecycle    0.081 / 0.185 s  0.44x    1.143 / 2.822 s   0.41x   0.288 / 0.453 s   0.63x
    compare      0.311 / 0.735 s  0.42x    1.961 / 13.63 s   0.14x   -
    interval     0.003 / 0.023 s  0.11x    0.020 / 0.195 s   0.10x   0.188 / 0.216 s   0.83x
    northstar    0.015 / 0.058 s  0.26x    0.147 / 0.930 s   0.16x   0.236 / 0.269 s   0.89x   (1.52x before)
    stuck        0.457 / 0.727 s  0.63x    5.903 / 18.16 s   0.33x   0.987 / 1.025 s   0.96x   (1.33x before; 10M 10.07 s)
    changes      0.305 / 3.081 s  0.10x    3.392 / 46.27 s   0.07x   0.846 / 3.343 s   0.24x
    (counts)     0.241 / 3.081 s  0.08x    2.898 / 46.27 s   0.06x
    graph        -                         -                         0.275 / 0.369 s   0.74x

Every analysis is under DuckDB in process and as a whole process; stuck's whole process with the thinnest
margin (0.92-0.96x; before and after in the same 9 rounds: 1.504 s at 226cbbd -> 0.902 s against DuckDB's
0.980 s): its numpy run after loading is ~0.44 s, the rest starting Python and numpy, the load (~0.1 s) and
pandas' import, mostly hidden behind the run.

4 December, session 24 (quiet machine, load 0.1-1.3; main at a55c4ea plus the session's import commits). Survey,
every answer checked equal to DuckDB's first; in process best of 3 (1M) / of 1 (10M):

    analysis     in process 1M             in process 10M            --cli 1M (5 rounds, medians)
                 ours / DuckDB    ratio    ours / DuckDB     ratio   ours / DuckDB     per round
    retention    0.089 / 0.190 s  0.47x    1.222 / 3.895 s   0.31x   0.289 / 0.423 s   0.68x
    lifecycle    0.080 / 0.187 s  0.43x    1.168 / 3.059 s   0.38x   0.262 / 0.364 s   0.73x
    compare      0.203 / 0.714 s  0.28x    1.753 / 11.18 s   0.16x   -
    interval     0.001 / 0.020 s  0.07x    0.019 / 0.160 s   0.12x   0.148 / 0.184 s   0.80x
    northstar    0.011 / 0.060 s  0.19x    0.138 / 1.168 s   0.12x   0.213 / 0.229 s   0.92x
    stuck        0.443 / 0.638 s  0.69x    5.719 / 10.13 s   0.56x   0.868 / 0.863 s   1.02x  (9 rounds: 0.97x / 0.99x)
    changes      0.281 / 2.737 s  0.10x    3.380 / 33.31 s   0.10x   0.790 / 3.125 s   0.25x
    graph        (bench_analysis 1M: 0.49x in process, 0.49x whole)                   0.261 / 0.367 s   0.73x

Stuck's whole process was back at the line. A per-phase timeline of one command (each step's clock and
page faults): pandas' import (~0.35 s of CPU here, on its own thread from the start) slowed the load
and the counts beside it; the second thread's queue (dwell times, then the exits' base rate: ~0.26 s
cold) ran while this thread counted (~0.2 s), then this thread computed the repeats (~0.19 s) and
their Mann-Whitney tests inside the table (~0.05 s) while the worker idled. Changed: the dwell times,
the repeats with their tests and the base rate are three tasks for the worker, and the command's
thread takes back (cancels and runs itself) whichever it has not started once its counts are done
(``stuck._results_taking_back``). JSON byte-identical on 40 runs (demo, receipt, sepsis, helpdesk,
this 1M log; the guessed goal, per session, three goals and three ``--avoid`` each). ``--cli stuck
--before`` the previous commit, 9 interleaved rounds, twice: 1.033 s -> 0.912 s (per round 0.89x ->
0.84x DuckDB's), 1.019 s -> 0.989 s (0.89x -> 0.84x); in process 0.44 -> 0.40 s (0.60x); 10M in
process 5.96 s against DuckDB's 9.99 s (0.60x), as before. Tried: a faster rank sum for Mann-Whitney
by sorting values instead of argsorting them (numpy's float sort is only ~1.3x its argsort on this CPU:
not worth the second pass for ties).
"""
from __future__ import annotations

import argparse
import os
import pickle
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from bench_import import generate_csv  # noqa: E402

DAY = 86_400_000
WEEK = 7 * DAY
COMPARE_EVENT = "event_05"
LOAD_SQL = ("CREATE TABLE events AS SELECT user_id, event, epoch_ms(timestamp) AS ts, "
            "row_number() OVER () AS rownum FROM read_csv('{csv}', header=true, columns={{"
            "'user_id': 'VARCHAR', 'event': 'VARCHAR', 'timestamp': 'TIMESTAMPTZ'}})")
# Week number with Monday as the first day (1970-01-01 was a Thursday).
RETENTION_SQL = f"""
WITH s AS (SELECT user_id, min(ts) AS start FROM events GROUP BY user_id),
u AS (SELECT user_id, start, ((SELECT max(ts) FROM events) - start) // {WEEK} AS n,
             (start // {DAY} + 3) // 7 AS cohort FROM s),
o AS (SELECT DISTINCT e.user_id, (e.ts - s.start) // {WEEK} AS k FROM events e JOIN s USING (user_id))
SELECT cohort, k, count(*) AS retained FROM o JOIN u USING (user_id)
WHERE k <= 12 AND (k < n OR k = 0) GROUP BY ALL
"""
COHORT_SQL = f"""
SELECT (start // {DAY} + 3) // 7 AS cohort, count(*) AS size,
       min(((SELECT max(ts) FROM events) - start) // {WEEK}) AS min_n
FROM (SELECT user_id, min(ts) AS start FROM events GROUP BY user_id) GROUP BY ALL
"""
LIFECYCLE_SQL = f"""
WITH a AS (SELECT DISTINCT user_id, (ts // {DAY} + 3) // 7 AS w FROM events),
l AS (SELECT w, w - lag(w) OVER p AS gap, lead(w) OVER p - w AS next_gap FROM a
      WINDOW p AS (PARTITION BY user_id ORDER BY w)),
last AS (SELECT max(w) AS last FROM a)
SELECT w, count(*) FILTER (gap IS NULL) AS new, count(*) FILTER (gap = 1) AS returning,
       count(*) FILTER (gap > 1) AS resurrected, count(*) AS active,
       count(*) FILTER ((next_gap IS NULL OR next_gap > 1) AND w < (SELECT last FROM last)) AS dormant_next
FROM l GROUP BY w
"""
COMPARE_SQL = f"""
CREATE OR REPLACE TEMP TABLE grams AS
WITH g AS (SELECT user_id, bool_or(event = '{COMPARE_EVENT}') AS a FROM events GROUP BY user_id)
SELECT user_id, a, event, lead(event) OVER w AS e2, lead(event, 2) OVER w AS e3
FROM events JOIN g USING (user_id) WINDOW w AS (PARTITION BY user_id ORDER BY ts, rownum);
"""
COMPARE_COUNTS_SQL = """
SELECT 1 AS n, event || '' AS gram, count(DISTINCT user_id) FILTER (a) AS a, count(DISTINCT user_id) FILTER (NOT a) AS b
FROM grams GROUP BY ALL
UNION ALL
SELECT 2, event || ' → ' || e2, count(DISTINCT user_id) FILTER (a), count(DISTINCT user_id) FILTER (NOT a)
FROM grams WHERE e2 IS NOT NULL GROUP BY ALL
UNION ALL
SELECT 3, event || ' → ' || e2 || ' → ' || e3, count(DISTINCT user_id) FILTER (a), count(DISTINCT user_id) FILTER (NOT a)
FROM grams WHERE e3 IS NOT NULL GROUP BY ALL
"""
GOAL_EVENT = "event_05"        # north star's critical event, interval's event and stuck's goal
INTERVAL_SQL = f"""
WITH h AS (SELECT user_id, ts, row_number() OVER (PARTITION BY user_id ORDER BY ts, rownum) AS k
           FROM events WHERE event = '{GOAL_EVENT}'),
g AS (SELECT user_id, k, ts - lag(ts) OVER (PARTITION BY user_id ORDER BY k) AS gap FROM h)
SELECT count(DISTINCT user_id) AS users, count(*) FILTER (k = 2) AS repeating, count(gap) AS gaps,
       quantile_cont(gap / 86400000.0, 0.8) FILTER (k = 2) AS p80 FROM g
"""
NORTHSTAR_SQL = f"""
WITH h AS (SELECT user_id, (ts // {DAY} + 3) // 7 AS w FROM events WHERE event = '{GOAL_EVENT}'),
p AS (SELECT w, user_id, count(*) AS n FROM h GROUP BY ALL),
f AS (SELECT user_id, min(ts) AS first FROM events GROUP BY user_id),
c AS (SELECT user_id, min(ts) AS fc FROM events WHERE event = '{GOAL_EVENT}' GROUP BY user_id),
eff AS (SELECT (fc // {DAY} + 3) // 7 AS w, median((fc - first) / 86400000.0) AS efficiency
        FROM c JOIN f USING (user_id) GROUP BY ALL)
SELECT w, count(*) AS breadth, count(*) FILTER (n > 1) AS repeaters, sum(n) AS events, any_value(efficiency) AS efficiency
FROM p LEFT JOIN eff USING (w) GROUP BY w
"""
# Stuck points' counts per event (the goal left out): failing / successful users reaching it, failing
# paths ending on it, users leaving a visit from it, and users looping on it (A A or A B A). A visit
# here is the whole path: this log's users come back days apart (every step over 30 minutes from the
# last), so the import takes its paths for cases, one visit each (store/session_rule.py, rule 3).
STUCK_SQL = f"""
WITH g AS (SELECT user_id, bool_or(event = '{GOAL_EVENT}') AS ok FROM events GROUP BY user_id),
e AS (SELECT user_id, event, lead(event) OVER w AS e1,
             lead(event, 2) OVER w AS e2, lead(ts) OVER w IS NULL AS last
      FROM events WINDOW w AS (PARTITION BY user_id ORDER BY ts, rownum))
SELECT event, count(DISTINCT user_id) FILTER (NOT ok) AS failing_users,
       count(DISTINCT user_id) FILTER (ok) AS successful_users,
       count(*) FILTER (last AND NOT ok) AS ended_without_goal,
       count(DISTINCT user_id) FILTER (last AND NOT ok) AS left_failing,
       count(DISTINCT user_id) FILTER (last AND ok) AS left_successful,
       count(DISTINCT user_id) FILTER ((e1 = event OR (e2 = event AND e1 <> event)) AND NOT ok) AS loop_failing
FROM e JOIN g USING (user_id) WHERE event <> '{GOAL_EVENT}' GROUP BY event
"""
DFG_SQL = """
SELECT event, next_event, count(*) AS n FROM (
    SELECT event, lead(event) OVER (PARTITION BY user_id ORDER BY ts, rownum) AS next_event FROM events)
WHERE next_event IS NOT NULL GROUP BY ALL
"""

# What changed (analysis.changes): the counts it scans, per week. Weeks start on Monday; an edge week the
# data covers for less than half is left out, then edge weeks with fewer active users than a quarter of
# the median week. Per event: its events and the users doing it per week (out of all events / active
# users); new users per week; P(next = B | A) for the 400 most frequent pairs seen at least 10 times
# (A's events near the end of the data left out: closer to it than 99 % of A's next steps take, at most a
# week); and the sequential funnel's steps (a step closer to the end than 99 % of its conversions left
# out). Event rates and shares of active users (and new users) leave out the first weeks while paths
# start up: the median user's first-to-last time in weeks (none under half a week), at most a third of
# the weeks (``change_series.warm_up_periods``; this log's users come back over months: 8 weeks). Not in
# the SQL: the draining tail (``trim_draining_tail``), which this log, new users to its end, never has
# (the "base" row's check would catch it). Rows: (kind, source, target, week, value); "base" carries the
# first week's start and the weeks.
CHANGE_STEPS = ("event_01", "event_03", GOAL_EVENT)


def changes_sql(steps: tuple[str, ...] = CHANGE_STEPS) -> str:
    week, monday, day = WEEK, 3 * DAY, DAY
    # Step j: each user's first step-j event after their step j - 1 (positions among the steps' events).
    reached = [f"p1 AS (SELECT user_id, min(k) AS k1, arg_min(ts, k) AS t1 FROM pos WHERE event = '{steps[0]}' "
               f"GROUP BY user_id)"]
    for j in range(2, len(steps) + 1):
        after = f"event = '{steps[j - 1]}' AND k > r.k{j - 1}"
        reached.append(
            f"p{j} AS (SELECT user_id, r.t{j - 1}, min(k) FILTER ({after}) AS k{j}, arg_min(ts, k) FILTER ({after}) "
            f"AS t{j} FROM p{j - 1} r JOIN pos USING (user_id) WHERE r.k{j - 1} IS NOT NULL GROUP BY ALL)")
    funnel = []
    for step in range(1, len(steps)):
        funnel.append(f"""
f{step} AS (SELECT t{step} AS reached_at, t{step + 1} - t{step} AS took FROM p{step + 1}),
s{step} AS (SELECT coalesce(quantile_cont(took::DOUBLE, 0.99), 0) AS settle FROM f{step}),
g{step} AS (SELECT (reached_at - base.a) // {week} AS w, took IS NOT NULL AS converted FROM f{step}, s{step}, base
            WHERE reached_at >= base.a AND reached_at < base.a + base.n * {week}
                  AND reached_at <= base.hi - s{step}.settle)""")
    funnel_rows = "\n".join(
        f"UNION ALL SELECT 'funnel_n', '{steps[step - 1]}', '{steps[step]}', w, count(*) FROM g{step} GROUP BY w\n"
        f"UNION ALL SELECT 'funnel_x', '{steps[step - 1]}', '{steps[step]}', w, count(*) FILTER (converted) "
        f"FROM g{step} GROUP BY w" for step in range(1, len(steps)))
    return f"""
WITH span AS (SELECT min(ts) AS lo, max(ts) AS hi FROM events),
raw AS (SELECT lo, hi, (lo + {monday}) // {week} * {week} - {monday} AS first,
               (hi + {monday}) // {week} * {week} - {monday} AS last FROM span),
cut1 AS (SELECT *, (last - first) // {week} + 1 AS n0,
                ((last - first) // {week} + 1 > 1 AND (first + {week} - lo) / {week} < 0.5)::INT AS drop_first FROM raw),
cut2 AS (SELECT lo, hi, last, first + drop_first * {week} AS a, n0 - drop_first AS n1 FROM cut1),
periods AS (SELECT hi, a, n1 - (n1 > 1 AND (hi + 1 - last) / {week} < 0.5)::INT AS n FROM cut2),
weeks AS (SELECT unnest(range(0, n)) AS w FROM periods),
active0 AS (SELECT weeks.w, count(DISTINCT e.user_id) AS active FROM weeks LEFT JOIN
            (SELECT user_id, (ts - a) // {week} AS w FROM events, periods WHERE ts >= a AND ts < a + n * {week}) e
            USING (w) GROUP BY weeks.w),
kept AS (SELECT min(w) AS head, max(w) AS tail FROM active0
         WHERE active >= 0.25 * (SELECT quantile_cont(active, 0.5) FROM active0)),
base AS (SELECT p.a + k.head * {week} AS a, k.tail - k.head + 1 AS n, p.hi FROM periods p, kept k),
typical AS (SELECT quantile_cont((last_ts - first_ts)::DOUBLE, 0.5) AS d
            FROM (SELECT min(ts) AS first_ts, max(ts) AS last_ts FROM events GROUP BY user_id)),
warm AS (SELECT CASE WHEN d < {week} / 2 THEN 0 ELSE least(ceil(d / {week})::BIGINT, n // 3) END AS k
         FROM typical, base),
ev AS (SELECT e.user_id, e.event, e.ts, e.rownum,
              CASE WHEN e.ts >= b.a AND e.ts < b.a + b.n * {week} THEN (e.ts - b.a) // {week} ELSE -1 END AS w
       FROM events e, base b),
seq AS (SELECT event, ts, w, lead(event) OVER o AS next_event, lead(ts) OVER o - ts AS gap
        FROM ev WINDOW o AS (PARTITION BY user_id ORDER BY ts, rownum)),
settle AS (SELECT event, least(coalesce(quantile_cont(gap::DOUBLE, 0.99), 0), {week}) AS s FROM seq GROUP BY event),
sources AS (SELECT seq.* FROM seq JOIN settle USING (event), base WHERE w >= 0 AND ts <= base.hi - settle.s),
pairs AS (SELECT event, next_event, count(*) AS total FROM sources WHERE next_event IS NOT NULL GROUP BY ALL
          HAVING count(*) >= 10 ORDER BY total DESC, event, next_event LIMIT 400),
late AS (SELECT event, next_event, quantile_cont(gap::DOUBLE, 0.9) AS g FROM seq JOIN pairs USING (event, next_event)
         GROUP BY ALL HAVING quantile_cont(gap::DOUBLE, 0.9) > {week}),
cutoffs AS (SELECT l.event, l.next_event,
                   b.a + (SELECT min((ev.ts - b.a) // {day}) FROM ev WHERE ev.w >= 0 AND ev.ts > b.hi - l.g) * {day} AS c
            FROM late l, base b),
pos AS (SELECT user_id, event, ts, row_number() OVER (PARTITION BY user_id ORDER BY ts, rownum) AS k FROM events
        WHERE event IN ({', '.join(repr(step) for step in steps)})),
{", ".join(reached)},{",".join(funnel)}
SELECT 'base' AS kind, NULL AS source, NULL AS target, a AS w, n AS value FROM base
UNION ALL SELECT 'rate', event, NULL, w, count(*) FROM ev, warm WHERE w >= warm.k GROUP BY ALL
UNION ALL SELECT 'events', NULL, NULL, w, count(*) FROM ev, warm WHERE w >= warm.k GROUP BY ALL
UNION ALL SELECT 'share', event, NULL, w, count(DISTINCT user_id) FROM ev, warm WHERE w >= warm.k GROUP BY ALL
UNION ALL SELECT 'active', NULL, NULL, w, count(DISTINCT user_id) FROM ev, warm WHERE w >= warm.k GROUP BY ALL
UNION ALL SELECT 'new', NULL, NULL, w, count(*) FROM (SELECT arg_min(w, ts) AS w FROM ev GROUP BY user_id), warm
          WHERE w >= warm.k GROUP BY ALL
UNION ALL SELECT 'trials', event, NULL, w, count(*) FROM sources GROUP BY ALL
UNION ALL SELECT 'transition', event, next_event, w, count(*) FROM sources JOIN pairs USING (event, next_event)
          GROUP BY ALL
UNION ALL SELECT 'transition_cut', event, next_event, w, count(*) FROM sources JOIN cutoffs USING (event, next_event)
          WHERE ts < c GROUP BY ALL
UNION ALL SELECT 'trials_cut', s.event, c.next_event, s.w, count(*) FROM sources s JOIN cutoffs c USING (event)
          WHERE s.ts < c.c GROUP BY ALL
UNION ALL SELECT 'cut', event, next_event, 0, 0 FROM cutoffs WHERE c IS NOT NULL
{funnel_rows}
"""



def best_of(call, repeat: int) -> float:
    call()                                         # warm
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return min(times)


def ours(log, repeat: int, only: list[str] | None = None) -> tuple[dict, dict]:
    from journey_explorer.analysis import changes, compare, interval, lifecycle, northstar, retention, stuck
    calls = {"retention": lambda: retention.run(log, retention.Spec()),
             "lifecycle": lambda: lifecycle.run(log, lifecycle.Spec()),
             "compare": lambda: compare.run(log, compare.Spec(did=COMPARE_EVENT)),
             "interval": lambda: interval.run(log, interval.Spec(event=GOAL_EVENT)),
             "northstar": lambda: northstar.run(log, northstar.Spec(event=GOAL_EVENT)),
             "stuck": lambda: stuck.run(log, stuck.Spec(goal=GOAL_EVENT)),
             # the whole analysis (its scan, stories and who they hit), and only the counts DuckDB gives
             "changes": lambda: changes.run(log, changes.Spec(goal=GOAL_EVENT, steps=CHANGE_STEPS, period="week")),
             "changes_counts": lambda: change_counts(log)}
    calls = {name: call for name, call in calls.items() if not only or name in only}
    results = {name: call() for name, call in calls.items()}
    return results, {name: best_of(call, repeat) for name, call in calls.items()}


def duckdb_side(csv: str, repeat: int, only: list[str] | None = None):
    import duckdb
    connection = duckdb.connect()
    connection.execute(LOAD_SQL.format(csv=csv))
    queries = {"retention": lambda: (connection.execute(RETENTION_SQL).df(), connection.execute(COHORT_SQL).df()),
               "lifecycle": lambda: connection.execute(LIFECYCLE_SQL).df(),
               "compare": lambda: (connection.execute(COMPARE_SQL),
                                   connection.execute(COMPARE_COUNTS_SQL).df())[1],
               "interval": lambda: connection.execute(INTERVAL_SQL).df(),
               "northstar": lambda: connection.execute(NORTHSTAR_SQL).df(),
               "stuck": lambda: connection.execute(STUCK_SQL).df(),
               "changes": lambda: connection.execute(changes_sql()).df()}
    connection.execute("SET enable_progress_bar = false")
    queries = {name: query for name, query in queries.items()
               if not only or name in only or (name == "changes" and "changes_counts" in only)}
    answers = {name: query() for name, query in queries.items()}
    return answers, {name: best_of(query, repeat) for name, query in queries.items()}


def check_retention(result, answer) -> None:
    triangle, cohorts = answer
    curve = triangle.groupby("k")["retained"].sum()
    assert np.array_equal(result.curve["retained"].to_numpy(), curve.reindex(range(13), fill_value=0).to_numpy())
    sizes = cohorts.sort_values("cohort")
    assert np.array_equal(result.cohorts["size"].to_numpy(), sizes["size"].to_numpy())
    labels = pd.to_datetime(sizes["cohort"].to_numpy() * 7 - 3, unit="D").strftime("%Y-%m-%d")
    assert list(result.cohorts["cohort"]) == list(labels)
    assert int(result.curve["eligible"][0]) == int(cohorts["size"].sum())


def check_lifecycle(result, answer) -> None:
    answer = answer.sort_values("w").reset_index(drop=True)
    table = result.table
    for column in ("new", "returning", "resurrected", "active"):
        assert np.array_equal(table[column].to_numpy(), answer[column].to_numpy()), column
    dormant = np.append(0, answer["dormant_next"].to_numpy()[:-1])
    assert np.array_equal(-table["dormant"].to_numpy(), dormant)


def check_compare(result, answer) -> None:
    ours_counts = pd.concat([
        result.events.rename(columns={"event": "gram"}).assign(n=1),
        result.transitions.rename(columns={"transition": "gram"}).assign(n=2)])[["n", "gram", "users_a", "users_b"]]
    theirs = answer[answer["n"] < 3].rename(columns={"a": "users_a", "b": "users_b"})
    merged = theirs.merge(ours_counts, on=["n", "gram"], suffixes=("_duck", ""))
    assert len(merged) == len(theirs) == len(ours_counts)
    assert (merged["users_a_duck"] == merged["users_a"]).all() and (merged["users_b_duck"] == merged["users_b"]).all()
    threes = answer[answer["n"] == 3].set_index("gram")
    for row in result.sequences[result.sequences["length"] == 3].itertuples():
        a_size, b_size = result.group_sizes
        assert round(threes.loc[row.sequence, "a"] / a_size, 4) == row.share_a


def check_interval(result, answer) -> None:
    row = answer.iloc[0]
    assert (result.users_with_event, result.repeating_users, len(result.gaps_days)) == \
        (int(row["users"]), int(row["repeating"]), int(row["gaps"]))
    assert result.interval_80_days == round(float(row["p80"]), 3)


def check_northstar(result, answer) -> None:
    table = result.table
    weeks = answer.set_index("w").reindex(range(int(answer["w"].min()), int(answer["w"].min()) + len(table)))
    assert len(weeks) == len(table) and int(answer["w"].max()) - int(answer["w"].min()) < len(table)
    assert np.array_equal(table["breadth"].to_numpy(), weeks["breadth"].fillna(0).to_numpy(dtype=np.int64))
    breadth = table["breadth"].to_numpy()
    repeaters = weeks["repeaters"].fillna(0).to_numpy()
    assert np.array_equal(table["depth"].to_numpy(), np.round(repeaters / np.maximum(breadth, 1), 4))
    frequency = np.round(np.where(breadth > 0, weeks["events"].fillna(0).to_numpy() / np.maximum(breadth, 1), np.nan), 3)
    assert np.allclose(table["frequency"].to_numpy(dtype=float), frequency, equal_nan=True)
    assert np.allclose(table["efficiency_days"].to_numpy(dtype=float), np.round(weeks["efficiency"].to_numpy(dtype=float), 2),
                       equal_nan=True)


def check_stuck(result, answer) -> None:
    table = result.table.set_index("event")
    theirs = answer.set_index("event").loc[table.index]
    assert len(theirs) == len(table) == len(answer)
    for column in ("failing_users", "successful_users", "ended_without_goal", "left_failing", "left_successful"):
        assert np.array_equal(table[column].to_numpy(), theirs[column].to_numpy()), column
    loops = np.round(theirs["loop_failing"].to_numpy() / np.maximum(theirs["failing_users"].to_numpy(), 1), 4)
    assert np.allclose(table["loop_rate_failing"].to_numpy(dtype=float), loops)


def change_counts(log):
    """The counts ``changes`` scans (its periods, trimmed edges and series), without the scan."""
    from journey_explorer.analysis import change_scan, change_series, changes
    periods = change_series.choose_periods(int(log.ts.min()), int(log.ts.max()), "week")
    periods, _, _ = change_series.trim_thin_edges(periods, log)
    periods, _ = change_series.trim_draining_tail(periods, log)
    warm_up = change_series.warm_up_periods(log, periods)
    spec = changes.Spec(goal=GOAL_EVENT, steps=CHANGE_STEPS, period="week")
    return periods, changes.build_series(log, spec, periods, change_scan.Support(), warm_up)[0]


def check_changes(result, answer) -> None:
    """``result``: (periods, series) from ``change_counts`` or a ``changes.Result``."""
    periods, series = (result.periods, result.series) if hasattr(result, "series") else result
    base = answer[answer["kind"] == "base"].iloc[0]
    assert (int(periods.edges[0]), periods.count) == (int(base["w"]), int(base["value"]))

    def per_week(kind: str, source=None, target=None) -> np.ndarray:
        rows = answer[answer["kind"] == kind]
        if source is not None:
            rows = rows[rows["source"] == source]
        if target is not None:
            rows = rows[rows["target"] == target]
        out = np.zeros(periods.count, dtype=np.int64)
        out[rows["w"].to_numpy(dtype=np.int64)] = rows["value"].to_numpy(dtype=np.int64)
        return out

    totals = {"rate": per_week("events"), "share": per_week("active"), "new": per_week("active")}
    cut = set(map(tuple, answer[answer["kind"] == "cut"][["source", "target"]].to_numpy()))
    transitions = set(map(tuple, answer[answer["kind"] == "transition"][["source", "target"]].to_numpy()))
    assert transitions == {(a, b) for k, a, b in zip(series.kind, series.source, series.target) if k == "transition"}
    funnel_steps = {(a, b) for k, a, b in zip(series.kind, series.source, series.target) if k == "funnel"}
    assert funnel_steps == set(zip(CHANGE_STEPS, CHANGE_STEPS[1:]))
    for i in range(len(series)):
        kind, source, target = series.kind[i], series.source[i], series.target[i]
        if kind == "transition":
            x, n = per_week("transition", source, target), per_week("trials", source)
            if (source, target) in cut:     # a slow transition: not measured where the data end before it could follow
                x, n = per_week("transition_cut", source, target), per_week("trials_cut", source, target)
        elif kind == "funnel":
            x, n = per_week("funnel_x", source, target), per_week("funnel_n", source, target)
        else:
            x, n = per_week(kind, None if kind == "new" else source), totals[kind]
        assert np.array_equal(series.x[i], x) and np.array_equal(series.n[i], n), (kind, source, target)


def same_results(before: dict, after: dict, tolerance: float = 1e-9) -> list[str]:
    """Names of the results that differ: any text, count or structure, or a number by more than
    ``tolerance`` (p-values now come from numpy's chi-square, not scipy's: equal to ~1e-15)."""
    def differs(x, y) -> bool:
        if isinstance(x, dict) and isinstance(y, dict):
            return x.keys() != y.keys() or any(differs(x[k], y[k]) for k in x)
        if isinstance(x, (list, tuple)) and isinstance(y, (list, tuple)):
            return len(x) != len(y) or any(differs(a, b) for a, b in zip(x, y))
        if isinstance(x, float) or isinstance(y, float):
            if x is None or y is None:
                return x is not y
            return not (np.isclose(x, y, rtol=tolerance, atol=tolerance) or (np.isnan(x) and np.isnan(y)))
        return x != y
    return [name for name in before if name in after and differs(before[name], after[name])]


# Whole process at the command line (issue 16): ``journey-explorer <command> PROJECT --json`` against
# a Python process that opens DuckDB's own .duckdb file (read-only, the same table as in memory) and
# answers the same question (``import duckdb`` + connect + query + fetch).
CLI_QUESTIONS = {
    "retention": ([], [RETENTION_SQL, COHORT_SQL]),
    "lifecycle": ([], [LIFECYCLE_SQL]),
    "interval": (["--event", GOAL_EVENT], [INTERVAL_SQL]),
    "northstar": (["--event", GOAL_EVENT], [NORTHSTAR_SQL]),
    "stuck": (["--goal", GOAL_EVENT], [STUCK_SQL]),
    "graph": ([], [DFG_SQL]),
    "changes": (["--goal", GOAL_EVENT, "--steps", ",".join(CHANGE_STEPS), "--period", "week"], [changes_sql()]),
}
DUCKDB_CHILD = ("import sys, duckdb\n"
                "connection = duckdb.connect(sys.argv[1], read_only=True)\n"
                "for sql in sys.argv[2:]:\n"
                "    connection.execute(sql).fetchall()\n")


def seconds(command: list[str], env: dict) -> float:
    started = time.perf_counter()
    # Run outside any checkout: ``python -m`` puts the working directory first on sys.path.
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, env=env, cwd=tempfile.gettempdir())
    return time.perf_counter() - started


def child_env(pythonpath: str | None) -> dict:
    """The environment of a timed process: an installed package runs from compiled bytecode, so
    PYTHONDONTWRITEBYTECODE is dropped (with it, every run recompiles ~30 of our modules: ~0.1-0.2 s)."""
    env = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    return env


def whole_process(project: str, csv: str, database: str, runs: int, names: list[str],
                  before: str | None = None) -> None:
    """Per command, ``runs`` rounds of [ours, DuckDB(, before)] one after the other (so a burst of
    load from other processes hits all sides alike), after one untimed warm-up run of each side;
    medians, and the median of the per-round ratios. ``before``: a checkout of older code to time
    in the same rounds (``git archive COMMIT | tar -x -C DIR``)."""
    import statistics
    if not os.path.exists(database):
        import duckdb
        with duckdb.connect(database) as connection:
            connection.execute(LOAD_SQL.format(csv=csv))
    print(f"whole process, {runs} interleaved rounds, medians (ours: journey-explorer COMMAND --json; DuckDB: "
          f"python + duckdb module reading its .duckdb file); load average {os.getloadavg()[0]:.1f}")
    here = str(Path(__file__).resolve().parent.parent)
    for name in names:
        extra, queries = CLI_QUESTIONS[name]
        cli = [sys.executable, "-m", "journey_explorer.cli", name, project, "--json", *extra]
        sides = {"ours": (cli, child_env(here)),
                 "duckdb": ([sys.executable, "-c", DUCKDB_CHILD, database, *queries], child_env(None))}
        if before:
            sides["before"] = (cli, child_env(before))
        times: dict[str, list[float]] = {side: [] for side in sides}
        for command, env in sides.values():
            seconds(command, env)                                   # warm: page cache, bytecode
        for _ in range(runs):
            for side, (command, env) in sides.items():
                times[side].append(seconds(command, env))
        median = {side: statistics.median(values) for side, values in times.items()}
        ratio = statistics.median(o / d for o, d in zip(times["ours"], times["duckdb"]))
        line = (f"{name:10} ours {median['ours']:7.3f} s   duckdb {median['duckdb']:7.3f} s   "
                f"ratio {median['ours'] / median['duckdb']:5.2f}x (per round {ratio:4.2f}x)")
        if before:
            was = statistics.median(b / d for b, d in zip(times["before"], times["duckdb"]))
            line += (f"   before {median['before']:7.3f} s, ratio {median['before'] / median['duckdb']:5.2f}x "
                     f"(per round {was:4.2f}x)")
        print(line + f"   load {os.getloadavg()[0]:.1f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--workdir", default="/tmp/journey-speed-bench")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--snapshot")
    parser.add_argument("--check")
    parser.add_argument("--skip-duckdb", action="store_true")
    parser.add_argument("--cli", nargs="*", metavar="COMMAND",
                        help=f"time whole processes instead (default: all of {', '.join(CLI_QUESTIONS)})")
    parser.add_argument("--runs", type=int, default=5, help="whole-process runs per side (median)")
    parser.add_argument("--before", metavar="DIR", help="with --cli: also time the code checked out in DIR")
    parser.add_argument("--only", nargs="+", metavar="ANALYSIS", help="in process: only these analyses")
    args = parser.parse_args()
    args.workdir = os.path.abspath(args.workdir)     # the timed processes run elsewhere
    os.makedirs(args.workdir, exist_ok=True)
    csv = os.path.join(args.workdir, f"events-{args.events}.csv")
    project = os.path.join(args.workdir, f"events-{args.events}.journey")
    if not os.path.exists(project):
        generate_csv(Path(csv), args.events, max(args.events // 5, 1))
        subprocess.run([sys.executable, "-m", "journey_explorer.cli", "import", project, csv, "--json"],
                       check=True, stdout=subprocess.DEVNULL)
    if args.cli is not None:
        whole_process(project, csv, os.path.join(args.workdir, f"events-{args.events}.duckdb"), args.runs,
                      args.cli or list(CLI_QUESTIONS), args.before)
        return
    from journey_explorer.memory import keep_freed_memory
    from journey_explorer.store.project import Project
    keep_freed_memory()         # as the app and the CLI do
    with Project.open(project) as p:
        log = p.load_event_log()
    results, times = ours(log, args.repeat, args.only)
    print(f"{args.events:,} events, {log.n_users:,} users")
    json_results = {name: result.to_json_dict() for name, result in results.items() if hasattr(result, "to_json_dict")}
    if args.snapshot:
        with open(args.snapshot, "wb") as handle:
            pickle.dump(json_results, handle)
    if args.check:
        with open(args.check, "rb") as handle:
            differ = same_results(pickle.load(handle), json_results)
        print("same numbers as the snapshot" if not differ else f"DIFFERENT from the snapshot: {differ}")
    duck = {}
    if not args.skip_duckdb:
        answers, duck = duckdb_side(csv, args.repeat, args.only)
        checks = {"retention": check_retention, "lifecycle": check_lifecycle, "compare": check_compare,
                  "interval": check_interval, "northstar": check_northstar, "stuck": check_stuck,
                  "changes": check_changes}
        for name in answers:
            for ours_name in (name, f"{name}_counts"):
                if ours_name in results:
                    checks[name](results[ours_name], answers[name])
        print("DuckDB's answers equal ours")
    for name, seconds in times.items():
        line = f"{name:14} ours {seconds:7.3f} s"
        theirs = duck.get(name.removesuffix("_counts"))
        if theirs:
            line += f"   duckdb {theirs:7.3f} s   ratio {seconds / theirs:5.2f}x"
        print(line)


if __name__ == "__main__":
    main()
