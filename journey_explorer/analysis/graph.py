"""Path graph: the directly-follows graph of event types, with users, counts and times.

``count`` on an edge A -> B is the number of times B directly follows A inside a path (time order,
file order breaking ties); ``users`` is how many paths contain that step. The graph holds
aggregates only — never per-event rows: built and simplified as plain dicts (``Arrows``), a NetworkX
DiGraph only when the process map asks for one (importing networkx costs ~0.2 s of a command-line run).

Simplification (``--min-share``), like Disco's activity and path sliders: keep event types reached
by at least that share of paths, and edges whose count is at least that share of the largest edge
count among the kept nodes; then, so no kept node floats unreachable, the strongest incoming edge of
any node not reachable from a start node is put back (repeated until all are reachable).

With a goal, the strongest path from a start event to the goal (the one whose
weakest edge is busiest) is always kept, so the way to the goal never disappears.

The result carries the process map's layout (``analysis.layout``: layers from Start to End, edges
with arrowheads) and the most common variants (``analysis.variants``).
"""
from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from journey_explorer.analysis.arrays import Groups, path_bounds, step_index
from journey_explorer.analysis.goals import goal_reach
from journey_explorer.analysis.variants import COLUMNS as VARIANT_COLUMNS
from journey_explorer.analysis.variants import variant_rows
from journey_explorer.eventlog import EventLog

if TYPE_CHECKING:
    import networkx as nx
    import pandas as pd

    from journey_explorer.analysis.layout import ProcessMap

MEASURES = ("frequency", "performance")    # edges labelled and coloured by count, or by median time


@dataclass(frozen=True)
class Spec:
    min_share: float = 0.0                 # activity slider: event types reached by fewer paths are hidden
    min_edge_share: float | None = None    # path slider: rarer edges hidden (None: same as min_share)
    goal: str | None = None                # its strongest path from a start is always shown
    measure: str = "frequency"             # what edges say: "frequency" (counts) or "performance" (median time)

    @property
    def edge_share(self) -> float:
        return self.min_share if self.min_edge_share is None else self.min_edge_share


class Arrows:
    """A directed graph as plain dicts, with the few NetworkX DiGraph operations this module needs and
    NetworkX's iteration orders (nodes and successors in insertion order, predecessors in the order
    their edges were added), so simplifying gives the graph networkx gave."""

    def __init__(self) -> None:
        self.nodes: dict[str, dict] = {}
        self.succ: dict[str, dict[str, dict]] = {}
        self.pred: dict[str, dict[str, dict]] = {}
        self.created: dict[tuple[str, str], None] = {}    # edges in the order they were added

    def __contains__(self, name) -> bool:
        return name in self.nodes

    def __iter__(self):
        return iter(self.nodes)

    def add_node(self, name: str, **data) -> None:
        if name not in self.nodes:
            self.nodes[name], self.succ[name], self.pred[name] = {}, {}, {}
        self.nodes[name].update(data)

    def add_edge(self, a: str, b: str, **data) -> None:
        self.add_node(a)
        self.add_node(b)
        if b in self.succ[a]:
            self.succ[a][b].update(data)
        else:
            self.succ[a][b] = self.pred[b][a] = dict(data)
            self.created[a, b] = None

    def remove_edge(self, a: str, b: str) -> None:
        del self.succ[a][b], self.pred[b][a], self.created[a, b]

    def edges(self):
        """(source, target, data) with sources in node order, targets in insertion order."""
        return [(a, b, data) for a in self.nodes for b, data in self.succ[a].items()]

    def in_edges(self, b: str):
        return [(a, b, data) for a, data in self.pred[b].items()]

    def subgraph(self, names) -> Arrows:
        """The induced subgraph on ``names`` (kept in this graph's order), data copied."""
        keep = set(names)
        out = Arrows()
        for name in self.nodes:
            if name in keep:
                out.add_node(name, **self.nodes[name])
        for a, b, data in self.edges():
            if a in keep and b in keep:
                out.add_edge(a, b, **data)
        return out

    def descendants(self, start: str) -> set[str]:
        seen, fringe = {start}, [start]
        while fringe:
            fringe = [b for a in fringe for b in self.succ[a] if not (b in seen or seen.add(b))]
        return seen - {start}

    def shortest_path(self, source: str, target: str) -> list[str] | None:
        """networkx's ``bidirectional_shortest_path`` (the same path among equally short ones), or None."""
        if source == target:
            return [source]
        pred, succ = {source: None}, {target: None}
        forward, backward = [source], [target]
        meet = None
        while forward and backward and meet is None:
            if len(forward) <= len(backward):
                forward, meet = self._widen(forward, self.succ, pred, succ)
            else:
                backward, meet = self._widen(backward, self.pred, succ, pred)
        if meet is None:
            return None
        path, node = [], meet
        while node is not None:
            path.append(node)
            node = pred[node]
        path.reverse()
        node = succ[path[-1]]
        while node is not None:
            path.append(node)
            node = succ[node]
        return path

    @staticmethod
    def _widen(fringe, neighbours, mine, theirs):
        """One breadth-first level of a bidirectional search; returns (next fringe, meeting node)."""
        level = []
        for v in fringe:
            for w in neighbours[v]:
                if w not in mine:
                    level.append(w)
                    mine[w] = v
                if w in theirs:
                    return level, w
        return level, None

    def to_networkx(self) -> nx.DiGraph:
        """The same graph, its edges added in this one's order (so predecessors come in the same order)."""
        import networkx as nx
        graph = nx.DiGraph()
        graph.add_nodes_from(self.nodes.items())
        graph.add_edges_from((a, b, self.succ[a][b]) for a, b in self.created)
        return graph


@dataclass
class Result:
    """``variant_rows``: the most common variants (``analysis.variants``) as plain rows; ``variants``
    is the same as a DataFrame (the command line's JSON does without pandas). ``arrows`` is the graph
    as plain dicts; ``graph`` the same as a NetworkX DiGraph (the command line's JSON does without)."""
    arrows: Arrows
    paths: int
    spec: Spec = field(default_factory=Spec)
    variant_rows: list[dict] = field(default_factory=list)

    @cached_property
    def graph(self) -> nx.DiGraph:
        return self.arrows.to_networkx()

    @property
    def variants(self) -> pd.DataFrame:
        import pandas as pd
        return pd.DataFrame(self.variant_rows, columns=VARIANT_COLUMNS)

    @cached_property
    def process_map(self) -> ProcessMap:
        # imported here: the window's map needs it, the command line's JSON does not (~3 ms)
        from journey_explorer.analysis import layout
        return layout.process_map(self.graph, self.paths, self.min_edge_count)

    @property
    def min_edge_count(self) -> int:
        """The path slider's threshold in transitions (Start and End edges obey it too)."""
        strongest = max((d["count"] for _, _, d in self.arrows.edges()), default=0)
        return int(np.ceil(self.spec.edge_share * strongest))

    def nodes(self) -> list[dict]:
        nodes = self.arrows.nodes
        return [{"event": name, **{k: nodes[name][k] for k in ("users", "events", "starts", "ends")},
                 "position": nodes[name]["position"]}
                for name in sorted(nodes, key=lambda n: -nodes[n]["events"])]

    def edges(self) -> list[dict]:
        rows = [{"source": a, "target": b, **data} for a, b, data in self.arrows.edges()]
        return sorted(rows, key=lambda r: -r["count"])

    def to_json_dict(self) -> dict:
        return {"paths": self.paths, "min_share": self.spec.min_share, "goal": self.spec.goal,
                "nodes": self.nodes(), "edges": self.edges(),
                "variants": [dict(row) for row in self.variant_rows]}

    def to_frame(self):
        import pandas as pd
        return pd.DataFrame(self.edges(), columns=["source", "target", "count", "users", "median_seconds",
                                                   "p90_seconds"])


def _rounded(value: float) -> float | None:
    """A Python float (``tolist``'s, not a numpy scalar: numpy's isnan and float() per value cost
    ~15 µs each, thousands of edges) rounded to 3 places, or None for NaN."""
    return None if math.isnan(value) else round(value, 3)


def _node_stats(log: EventLog, size: int) -> dict[str, np.ndarray]:
    starts, ends = path_bounds(log)
    by_event = Groups(log.event, size)
    # paths per event: what the goal guess counted already (kept per log), else counted from these groups
    return {"events": by_event.counts, "users": goal_reach(log, by_event),
            "starts": np.bincount(log.event[starts], minlength=size),
            "ends": np.bincount(log.event[ends - 1], minlength=size) if len(ends) else np.zeros(size, dtype=int),
            "position": by_event.quantiles(step_index(log), (0.5,))[0]}


def _edge_stats(log: EventLog, size: int) -> dict[str, np.ndarray]:
    # Pairs over the whole array; a pair that crosses into the next path goes to an extra bucket
    # (cheaper than compressing four 10M-row arrays).
    crossing = log.user[1:] != log.user[:-1]
    pair = log.event[:-1].astype(np.int32) * size + log.event[1:]
    pair[crossing] = size * size
    by_pair = Groups(pair, size * size + 1)
    gap_seconds = np.diff(log.ts) / 1000.0 if len(log) > 1 else np.zeros(0)
    median, p90 = by_pair.quantiles(gap_seconds, (0.5, 0.9), skip_last=True)
    return {"count": by_pair.counts[:-1], "users": by_pair.distinct(log.user[:-1])[:-1],
            "median": median, "p90": p90}


def build_graph(log: EventLog) -> nx.DiGraph:
    """The full directly-follows graph of ``log`` with node and edge statistics."""
    return build_arrows(log).to_networkx()


def build_arrows(log: EventLog) -> Arrows:
    """``build_graph`` as plain dicts."""
    size = len(log.event_names)
    # Node and edge statistics are independent; numpy's sorts and gathers release the GIL, so the
    # two halves run side by side on two cores (~1.6x faster on 10M events).
    with ThreadPoolExecutor(max_workers=2) as pool:
        nodes_job = pool.submit(_node_stats, log, size)
        edges = _edge_stats(log, size)
        nodes = nodes_job.result()
    graph = Arrows()
    present = np.flatnonzero(nodes["events"]).tolist()
    nodes = {name: values.tolist() for name, values in nodes.items()}     # plain ints and floats
    for code in present:
        graph.add_node(log.event_names[code], users=nodes["users"][code], events=nodes["events"][code],
                       starts=nodes["starts"][code], ends=nodes["ends"][code],
                       position=_rounded(nodes["position"][code]))
    present = np.flatnonzero(edges["count"]).tolist()
    edges = {name: values.tolist() for name, values in edges.items()}
    for code in present:
        a, b = divmod(code, size)
        graph.add_edge(log.event_names[a], log.event_names[b], count=edges["count"][code],
                       users=edges["users"][code], median_seconds=_rounded(edges["median"][code]),
                       p90_seconds=_rounded(edges["p90"][code]))
    return graph


def strongest_path(graph: Arrows | nx.DiGraph, goal: str | None) -> list[str]:
    """The path from an event that starts paths to ``goal`` whose weakest edge is busiest ([] if none)."""
    graph = _as_arrows(graph)
    sources = [n for n, d in graph.nodes.items() if d["starts"] > 0]
    if goal not in graph or not sources:
        return []
    edges = graph.edges()
    for floor in sorted({d["count"] for _, _, d in edges}, reverse=True):
        strong = Arrows()
        for a, b, d in edges:
            if d["count"] >= floor:
                strong.add_edge(a, b)
        for name in sources + [goal]:
            strong.add_node(name)
        for source in sources:
            path = strong.shortest_path(source, goal)
            if path is not None:
                return path
    return [goal] if goal in sources else []


def _as_arrows(graph: Arrows | nx.DiGraph) -> Arrows:
    if isinstance(graph, Arrows):
        return graph
    arrows = Arrows()
    for name, data in graph.nodes(data=True):
        arrows.add_node(name, **data)
    for a, b, data in graph.edges(data=True):
        arrows.add_edge(a, b, **data)
    return arrows


def simplify(graph: Arrows, min_share: float, paths: int, min_edge_share: float | None = None,
             goal: str | None = None) -> Arrows:
    """Keep frequent nodes and edges and the strongest path to the goal, then make every kept node
    reachable again (see module doc)."""
    edge_share = min_share if min_edge_share is None else min_edge_share
    if min_share <= 0 and edge_share <= 0:
        return graph
    kept = graph.subgraph([n for n, d in graph.nodes.items() if d["users"] >= min_share * paths])
    strongest = max((d["count"] for _, _, d in kept.edges()), default=0)
    for a, b, d in kept.edges():
        if d["count"] < edge_share * strongest:
            kept.remove_edge(a, b)
    to_goal = strongest_path(graph, goal)
    for name in to_goal:
        kept.add_node(name, **graph.nodes[name])
    for a, b in zip(to_goal, to_goal[1:]):
        kept.add_edge(a, b, **graph.succ[a][b])
    sources = {n for n in kept if graph.nodes[n]["starts"] > 0}
    while True:
        reachable = set(sources)
        for start in sources:
            reachable |= kept.descendants(start)
        stranded = [n for n in kept if n not in reachable]
        if not stranded:
            return kept
        candidates = [(d["count"], a, b) for b in stranded for a, _, d in graph.in_edges(b)
                      if a in reachable and a in kept]
        if not candidates:
            sources |= set(stranded)       # nothing leads there: it starts paths of its own
            continue
        _, a, b = max(candidates)
        kept.add_edge(a, b, **graph.succ[a][b])


# Where the app's sliders and the graph command start: the busiest structure, legible at once
# (on the demo: 16 event types, 24 arrows including Start and End, the goal on the map).
DEFAULT_MIN_SHARE = 0.25
DEFAULT_MIN_EDGE_SHARE = 0.15


def run(log: EventLog, spec: Spec = Spec(), progress=None) -> Result:
    paths = log.paths_count
    # The variants do not depend on the map: a third job beside its node and edge halves, so both
    # cores stay busy (their sorts release the GIL; ~0.05 s of a 1M-event command line on 2 cores).
    with ThreadPoolExecutor(max_workers=1) as pool:
        variants_job = pool.submit(variant_rows, log, spec.goal)
        arrows = simplify(build_arrows(log), spec.min_share, paths, spec.min_edge_share, spec.goal)
        variants = variants_job.result()
    return Result(arrows=arrows, paths=paths, spec=spec, variant_rows=variants)
