"""The process map's geometry (Qt-free): a layered top-to-bottom drawing of a directly-follows graph.

A Sugiyama-style layout in three steps, on the graph plus a *Start* node (an edge to every event
that begins paths) and an *End* node (an edge from every event that ends them):

1. **Back edges**: a depth-first walk from Start along the busiest edges first; an edge that
   returns to a node still on the walk closes a loop and is a back edge. The rest form a DAG.
2. **Layers**: each node's layer is its longest forward path from Start (networkx's topological
   order); End goes one layer below the deepest node.
3. **Order within a layer**: a few barycentre sweeps (down, then up) weighted by edge counts, so
   strong edges run straight and cross less.

Coordinates are in layout units (one unit between layers and between neighbours in a layer; y
grows upwards, so layers go down). Forward edges leave the bottom of their source box and enter
the top of their target; back edges leave the right side of their source and curve back into the
right side of their target. Every edge carries a cubic Bézier (four points) and an arrowhead
(a triangle whose tip is on the target box).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import networkx as nx


START, END = "Start", "End"
BOX_WIDTH, BOX_HEIGHT = 0.9, 0.44
ARROW_LENGTH, ARROW_HALF_WIDTH = 0.09, 0.045
SWEEPS = 4

Point = tuple[float, float]
Segment = tuple[Point, Point, Point, Point]
DUMMY_WIDTH = 0.3           # room a long edge takes in a layer it passes through


@dataclass(frozen=True)
class Place:
    name: str
    layer: int
    x: float
    y: float
    kind: str                 # "start", "end" or "event"
    users: int = 0

    @property
    def box(self) -> tuple[float, float, float, float]:
        """left, bottom, right, top."""
        return (self.x - BOX_WIDTH / 2, self.y - BOX_HEIGHT / 2, self.x + BOX_WIDTH / 2, self.y + BOX_HEIGHT / 2)


@dataclass(frozen=True)
class Route:
    source: str
    target: str
    count: int
    median_seconds: float | None
    back: bool
    segments: tuple[Segment, ...]       # cubic Béziers, joined, from the source box to the arrow's base
    arrow: tuple[Point, Point, Point]   # tip (on the target box), then the two base corners
    label: Point

    @property
    def start(self) -> Point:
        return self.segments[0][0]

    @property
    def end(self) -> Point:
        return self.segments[-1][3]

    def points(self, per_segment: int = 8) -> list[Point]:
        """Points along the whole route (for checks and bounds)."""
        return [_bezier(seg, i / per_segment) for seg in self.segments for i in range(per_segment + 1)]


@dataclass(frozen=True)
class ProcessMap:
    places: dict[str, Place]
    routes: list[Route]

    @property
    def layers(self) -> int:
        return max((p.layer for p in self.places.values()), default=0) + 1

    def bounds(self) -> tuple[float, float, float, float]:
        """left, bottom, right, top of everything drawn (boxes and back-edge bulges)."""
        xs = [x for p in self.places.values() for x in (p.box[0], p.box[2])]
        ys = [y for p in self.places.values() for y in (p.box[1], p.box[3])]
        for route in self.routes:
            xs += [pt[0] for seg in route.segments for pt in seg]
            ys += [pt[1] for seg in route.segments for pt in seg]
        return (min(xs), min(ys), max(xs), max(ys)) if xs else (0.0, 0.0, 1.0, 1.0)


def with_start_and_end(graph: nx.DiGraph, paths: int, min_count: int = 0) -> nx.DiGraph:
    """``graph`` plus Start and End nodes linked to the events that begin and end paths.

    A Start or End edge rarer than ``min_count`` is left out unless its node would be cut off
    without it; self-loops are left out too (they are shown on the node, not as edges)."""
    import networkx as nx
    full = nx.DiGraph()
    full.add_node(START, users=paths, position=-math.inf)
    full.add_node(END, users=paths, position=math.inf)
    for name, data in graph.nodes(data=True):
        full.add_node(name, **data)
        others_in = any(a != name for a in graph.predecessors(name))
        others_out = any(b != name for b in graph.successors(name))
        if data.get("starts") and (data["starts"] >= min_count or not others_in):
            full.add_edge(START, name, count=data["starts"], median_seconds=None)
        if data.get("ends") and (data["ends"] >= min_count or not others_out):
            full.add_edge(name, END, count=data["ends"], median_seconds=None)
    for a, b, data in graph.edges(data=True):
        if a != b:
            full.add_edge(a, b, **data)
    return full


def _rank(graph: nx.DiGraph) -> dict[str, tuple]:
    """Typical position in a path, then busiest first, then name: a total order."""
    return {n: (d.get("position") if d.get("position") is not None else 0.0, -d.get("users", 0), n)
            for n, d in graph.nodes(data=True)}





def back_edges(graph: nx.DiGraph) -> set[tuple[str, str]]:
    """Edges that close a cycle in a depth-first walk from Start taking the busiest edges first
    (greedy cycle removal: the main flow stays forward, loops back become back edges)."""
    rank = _rank(graph)
    state: dict[str, int] = {}                   # 1: on the walk's stack, 2: done
    back: set[tuple[str, str]] = set()
    roots = ([START] if START in graph else []) + sorted(graph.nodes, key=lambda n: rank[n])
    for root in roots:
        if root in state:
            continue
        state[root] = 1
        stack = [(root, iter(_busiest_first(graph, root)))]
        while stack:
            node, successors = stack[-1]
            child = next(successors, None)
            if child is None:
                state[node] = 2
                stack.pop()
            elif state.get(child) == 1:
                back.add((node, child))
            elif child not in state:
                state[child] = 1
                stack.append((child, iter(_busiest_first(graph, child))))
    return back


def _busiest_first(graph: nx.DiGraph, node: str) -> list[str]:
    return sorted(graph.successors(node), key=lambda s: (-graph.edges[node, s]["count"], s))


def layers(graph: nx.DiGraph, back: set[tuple[str, str]]) -> dict[str, int]:
    import networkx as nx
    forward = nx.DiGraph()
    forward.add_nodes_from(graph.nodes)
    forward.add_edges_from(e for e in graph.edges if e not in back)
    layer: dict[str, int] = {}
    for node in nx.topological_sort(forward):
        preds = [layer[p] + 1 for p in forward.predecessors(node)]
        layer[node] = 0 if node == START else max(preds, default=1)
    if END in layer:
        layer[END] = max((v for n, v in layer.items() if n != END), default=0) + 1
    return layer


def order_layers(graph: nx.DiGraph, layer: dict[str, int]) -> dict[str, float]:
    """x of every node: barycentre sweeps, then each layer centred on 0 (a node takes one unit,
    a long edge's waypoint ``DUMMY_WIDTH``)."""
    rows: dict[int, list[str]] = {}
    rank = _rank(graph)
    for node in sorted(layer, key=lambda n: rank[n]):
        rows.setdefault(layer[node], []).append(node)
    x: dict[str, float] = {}
    for row in rows.values():
        x.update(_spaced(graph, row))
    depth = max(rows, default=0)
    for sweep in range(SWEEPS):
        downwards = sweep % 2 == 0
        for level in (range(1, depth + 1) if downwards else range(depth - 1, -1, -1)):
            row = rows.get(level, [])
            centre = {n: _barycentre(graph, n, x, layer, above=downwards) for n in row}
            row.sort(key=lambda n: (centre[n] if centre[n] is not None else x[n], rank[n]))
            x.update(_spaced(graph, row))
    return x


def _spaced(graph: nx.DiGraph, row: list[str]) -> dict[str, float]:
    widths = [DUMMY_WIDTH if graph.nodes[n].get("dummy") else 1.0 for n in row]
    total = sum(widths)
    x, left = {}, -total / 2
    for node, width in zip(row, widths):
        x[node] = left + width / 2
        left += width
    return x


def _barycentre(graph: nx.DiGraph, node: str, x: dict[str, float], layer: dict[str, int],
                above: bool) -> float | None:
    if above:
        neighbours = [(p, graph.edges[p, node]["count"]) for p in graph.predecessors(node) if layer[p] < layer[node]]
    else:
        neighbours = [(s, graph.edges[node, s]["count"]) for s in graph.successors(node) if layer[s] > layer[node]]
    total = sum(w for _, w in neighbours)
    return sum(x[n] * w for n, w in neighbours) / total if total else None


def process_map(graph: nx.DiGraph, paths: int, min_count: int = 0) -> ProcessMap:
    """The layered layout of ``graph`` (a directly-follows graph with node ``position``s)."""
    full = with_start_and_end(graph, paths, min_count)
    back = back_edges(full)
    layer = layers(full, back)
    ordering, waypoints = _with_waypoints(full, layer, back)
    x = order_layers(ordering, layer)
    places = {n: Place(n, layer[n], x[n], -float(layer[n]), _kind(n), int(full.nodes[n].get("users", 0)))
              for n in full.nodes}
    via = {edge: [(x[w], -float(layer[w])) for w in names] for edge, names in waypoints.items()}
    routes = _routes(full, places, back, via)
    return ProcessMap(places, routes)


def _with_waypoints(graph: nx.DiGraph, layer: dict[str, int], back) -> tuple[nx.DiGraph, dict]:
    """A copy of ``graph`` where each forward edge spanning several layers passes through a waypoint
    in every layer between (so the ordering keeps a free lane for it), and the waypoints per edge."""
    import networkx as nx
    ordering = nx.DiGraph()
    ordering.add_nodes_from(graph.nodes(data=True))
    waypoints: dict[tuple[str, str], list[str]] = {}
    for a, b, data in graph.edges(data=True):
        span = layer[b] - layer[a]
        if (a, b) in back or span <= 1:
            ordering.add_edge(a, b, count=data["count"])
            continue
        names = [f"\0{a}\0{b}\0{i}" for i in range(1, span)]
        for i, name in enumerate(names, start=1):
            ordering.add_node(name, dummy=True, position=None, users=0)
            layer[name] = layer[a] + i
        chain = [a, *names, b]
        ordering.add_edges_from(((u, v, {"count": data["count"]}) for u, v in zip(chain, chain[1:])))
        waypoints[a, b] = names
    return ordering, waypoints


def _kind(name: str) -> str:
    return {START: "start", END: "end"}.get(name, "event")


def _routes(graph: nx.DiGraph, places: dict[str, Place], back: set[tuple[str, str]],
            via: dict[tuple[str, str], list[Point]]) -> list[Route]:
    out_port = _ports(graph, places, back, via, outgoing=True)
    in_port = _ports(graph, places, back, via, outgoing=False)
    routes = []
    lanes: list[tuple[float, int, int, float]] = []      # side, layers spanned and outer x of back edges so far
    for a, b, data in sorted(graph.edges(data=True), key=lambda e: abs(places[e[0]].layer - places[e[1]].layer)):
        if (a, b) in back:
            segments, arrow = _back_route(places[a], places[b], places, lanes)
        else:
            segments, arrow = _forward_route(places[a], places[b], out_port[a, b], in_port[a, b], via.get((a, b), []))
        routes.append(Route(a, b, int(data["count"]), data.get("median_seconds"), (a, b) in back, segments, arrow,
                            _bezier(segments[0], 0.5)))
    return sorted(routes, key=lambda r: -r.count)


def _ports(graph: nx.DiGraph, places: dict[str, Place], back, via, outgoing: bool) -> dict[tuple[str, str], float]:
    """Where each forward edge meets a box, spread along its side in the order of the other ends
    (so edges fanning out of one node do not start on top of each other); back edges: 0."""
    ports: dict[tuple[str, str], float] = {}
    for node in graph.nodes:
        edges = graph.out_edges(node) if outgoing else graph.in_edges(node)
        forward = sorted((e for e in edges if e not in back), key=lambda e: _next_x(e, places, via, outgoing))
        spread = BOX_WIDTH * 0.6
        for i, edge in enumerate(forward):
            ports[edge] = 0.0 if len(forward) == 1 else -spread / 2 + spread * i / (len(forward) - 1)
        ports.update({e: 0.0 for e in edges if e in back})
    return ports


def _next_x(edge, places: dict[str, Place], via, outgoing: bool) -> float:
    """x of the first thing the edge reaches after (or before) its node: a waypoint or the other end."""
    points = via.get(edge, [])
    if points:
        return points[0][0] if outgoing else points[-1][0]
    return places[edge[1] if outgoing else edge[0]].x


def _forward_route(source: Place, target: Place, out_dx: float, in_dx: float, waypoints: list[Point]):
    """Down from the source's bottom, straight through each waypoint's layer, into the target's top."""
    tip = (target.x + in_dx, target.y + BOX_HEIGHT / 2)
    stops = [(source.x + out_dx, source.y - BOX_HEIGHT / 2)]
    for x, y in waypoints:
        stops += [(x, y + BOX_HEIGHT / 2), (x, y - BOX_HEIGHT / 2)]
    stops.append((tip[0], tip[1] + ARROW_LENGTH))
    segments = []
    for i, ((x0, y0), (x3, y3)) in enumerate(zip(stops, stops[1:])):
        bend = (y0 - y3) * (0.45 if i % 2 == 0 else 0.0)       # odd segments: straight down a waypoint's lane
        segments.append(((x0, y0), (x0, y0 - bend), (x3, y3 + bend), (x3, y3)))
    x3, y3 = stops[-1]
    return tuple(segments), (tip, (x3 - ARROW_HALF_WIDTH, y3), (x3 + ARROW_HALF_WIDTH, y3))


def _back_route(source: Place, target: Place, places: dict[str, Place], lanes: list):
    """Out of the source's outer side, around every box between and outside the back edges already
    routed over the same layers (so they do not run on top of each other), into the target's side."""
    side = 1.0 if source.x + target.x >= 0 else -1.0
    x0, y0 = source.x + side * BOX_WIDTH / 2, source.y
    tip = (target.x + side * BOX_WIDTH / 2, target.y)
    x3, y3 = tip[0] + side * ARROW_LENGTH, tip[1]
    low, high = sorted((source.layer, target.layer))
    between = [p.x + side * BOX_WIDTH / 2 for p in places.values() if low <= p.layer <= high]
    outer = max(between) if side > 0 else min(between)
    bulge = outer + side * (0.2 + 0.06 * (high - low))
    for lane_side, lane_low, lane_high, lane_x in lanes:
        if lane_side == side and lane_low <= high and low <= lane_high:
            bulge = max(bulge, lane_x + 0.12) if side > 0 else min(bulge, lane_x - 0.12)
    lanes.append((side, low, high, bulge))
    segment = ((x0, y0), (bulge, y0), (bulge, y3), (x3, y3))
    return (segment,), (tip, (x3, y3 - ARROW_HALF_WIDTH), (x3, y3 + ARROW_HALF_WIDTH))


def _bezier(segment: Segment, t: float) -> Point:
    (x0, y0), (x1, y1), (x2, y2), (x3, y3) = segment
    a, b, c, d = (1 - t) ** 3, 3 * (1 - t) ** 2 * t, 3 * (1 - t) * t ** 2, t ** 3
    return (a * x0 + b * x1 + c * x2 + d * x3, a * y0 + b * y1 + c * y2 + d * y3)
