"""Z/2 H1 persistence pairs of a filtered 2-complex (compiled with numba).

Edges and triangles come in filtration order (faces before cofaces). A union-find pass over the
edges splits them into negative edges (they merge two components) and positive ones (they close
a cycle, creating an H1 class). The triangle boundary matrix, restricted to positive edges
(rows of negative edges can be dropped: the "compression" of Bauer, Kerber & Reininghaus 2014),
is reduced left to right over Z/2 with columns stored as 64-bit words; the lowest entry of a
reduced column names the edge whose class that triangle kills.
"""

from __future__ import annotations

import numpy as np
from numba import njit

NEGATIVE = -2  # the edge merges two components
ESSENTIAL = -1  # the edge's cycle is never filled


@njit(cache=True)
def _find(parent: np.ndarray, x: int) -> int:
    while parent[x] != x:
        parent[x] = parent[parent[x]]
        x = parent[x]
    return x


@njit(cache=True)
def _highest_bit(word: np.uint64) -> int:
    position = 0
    for shift in (32, 16, 8, 4, 2, 1):
        if word >> np.uint64(shift):
            word >>= np.uint64(shift)
            position += shift
    return position


@njit(cache=True)
def h1_pairing(n_vertices: int, edge_u: np.ndarray, edge_v: np.ndarray,
               triangle_edges: np.ndarray) -> np.ndarray:
    """For each edge (in filtration order): NEGATIVE, ESSENTIAL, or the triangle index (in
    filtration order) that kills its H1 class. ``triangle_edges`` [T, 3] index the edges."""
    n_edges = edge_u.shape[0]
    parent = np.arange(n_vertices)
    status = np.full(n_edges, ESSENTIAL, dtype=np.int64)
    bit_of_edge = np.full(n_edges, -1, dtype=np.int64)
    edge_of_bit = np.empty(n_edges, dtype=np.int64)
    n_positive = 0
    for e in range(n_edges):
        root_u = _find(parent, edge_u[e])
        root_v = _find(parent, edge_v[e])
        if root_u != root_v:
            parent[root_u] = root_v
            status[e] = NEGATIVE
        else:
            bit_of_edge[e] = n_positive
            edge_of_bit[n_positive] = e
            n_positive += 1
    n_words = (n_positive + 63) // 64
    n_triangles = triangle_edges.shape[0]
    columns = np.zeros((n_triangles, max(n_words, 1)), dtype=np.uint64)
    pivot_column = np.full(max(n_positive, 1), -1, dtype=np.int64)
    one = np.uint64(1)
    for t in range(n_triangles):
        column = columns[t]
        for j in range(3):
            bit = bit_of_edge[triangle_edges[t, j]]
            if bit >= 0:
                column[bit >> 6] ^= one << np.uint64(bit & 63)
        top = n_words - 1
        while True:
            while top >= 0 and column[top] == 0:
                top -= 1
            if top < 0:
                break  # the triangle closes a 2-cycle
            low = top * 64 + _highest_bit(column[top])
            other = pivot_column[low]
            if other < 0:
                pivot_column[low] = t
                status[edge_of_bit[low]] = t
                break
            source = columns[other]
            for w in range(top + 1):
                column[w] ^= source[w]
    return status


@njit(cache=True)
def _push(keys: np.ndarray, values: np.ndarray, size: int, key: int, value: float):
    if size == keys.shape[0]:
        keys = np.concatenate((keys, np.empty_like(keys)))
        values = np.concatenate((values, np.empty_like(values)))
    keys[size] = key
    values[size] = value
    return keys, values, size + 1


@njit(cache=True)
def _relax(near_d: np.ndarray, last: int, gap: int) -> float:
    """GUDHI's per-witness relaxation d_last - d_gap (0 when not positive)."""
    if near_d[last] > near_d[gap]:
        return near_d[last] - near_d[gap]
    return 0.0


@njit(cache=True)
def witness_skeleton(d: np.ndarray, alpha_max: float):
    """Smallest per-witness relaxation of every reached vertex, edge and triangle.

    For each witness: its candidate landmarks (``d - alpha_max <= d_(4)``), sorted; ``reach[j]``
    = how many positions p satisfy ``d_p - alpha_max <= d_j``; then every simplex of <= 3
    candidates whose smallest absent position j precedes its last position r is reached iff
    r < reach[j], with relaxation d_r - d_j (the ``size`` nearest landmarks: relaxation 0).
    Returns (vertex [L], edge [L, L] upper triangle, triangle keys, triangle relaxations);
    inf marks unreached vertices and edges, keys are (a*L + b)*L + c with a < b < c.
    """
    n_witnesses, n_landmarks = d.shape
    vertex = np.full(n_landmarks, np.inf)
    edge = np.full((n_landmarks, n_landmarks), np.inf)
    tri_keys = np.empty(max(4 * n_witnesses, 16), dtype=np.int64)
    tri_relax = np.empty(max(4 * n_witnesses, 16), dtype=np.float64)
    n_tri = 0
    near_d = np.empty(n_landmarks)
    near_l = np.empty(n_landmarks, dtype=np.int64)
    smallest = np.empty(4)
    reach = np.zeros(4, dtype=np.int64)
    n_probe = min(4, n_landmarks)
    for w in range(n_witnesses):
        row = d[w]
        for j in range(n_probe):
            smallest[j] = np.inf
        for value in row:  # the n_probe smallest distances, ascending
            if value < smallest[n_probe - 1]:
                j = n_probe - 1
                while j > 0 and smallest[j - 1] > value:
                    smallest[j] = smallest[j - 1]
                    j -= 1
                smallest[j] = value
        bound = smallest[n_probe - 1]
        k = 0
        for landmark in range(n_landmarks):
            value = row[landmark]
            if value - alpha_max <= bound:  # insertion sort, stable for ties
                j = k
                while j > 0 and near_d[j - 1] > value:
                    near_d[j] = near_d[j - 1]
                    near_l[j] = near_l[j - 1]
                    j -= 1
                near_d[j] = value
                near_l[j] = landmark
                k += 1
        for j in range(n_probe):
            count = 0
            while count < k and near_d[count] - alpha_max <= near_d[j]:
                count += 1
            reach[j] = count
        # Vertices: the nearest at 0; position p >= 1 with gap 0.
        vertex[near_l[0]] = 0.0
        for p in range(1, reach[0]):
            relax = _relax(near_d, p, 0)
            if relax < vertex[near_l[p]]:
                vertex[near_l[p]] = relax
        if k < 2:
            continue
        # Edges: (0, 1) at 0; (0, q) with gap 1; (p, q), p >= 1, with gap 0.
        for p in range(k):
            for q in range(p + 1, k):
                if p == 0 and q == 1:
                    relax = 0.0
                elif p == 0:
                    if q >= reach[1]:
                        break
                    relax = _relax(near_d, q, 1)
                else:
                    if q >= reach[0]:
                        break
                    relax = _relax(near_d, q, 0)
                a, b = near_l[p], near_l[q]
                if a > b:
                    a, b = b, a
                if relax < edge[a, b]:
                    edge[a, b] = relax
        if k < 3:
            continue
        # Triangles: (0, 1, 2) at 0; (0, 1, r) gap 2; (0, q, r) gap 1; (p, q, r) gap 0.
        for p in range(k):
            for q in range(p + 1, k):
                for r in range(q + 1, k):
                    if p == 0 and q == 1 and r == 2:
                        relax = 0.0
                    elif p == 0 and q == 1:
                        if r >= reach[2]:
                            break
                        relax = _relax(near_d, r, 2)
                    elif p == 0:
                        if r >= reach[1]:
                            break
                        relax = _relax(near_d, r, 1)
                    else:
                        if r >= reach[0]:
                            break
                        relax = _relax(near_d, r, 0)
                    a, b, c = near_l[p], near_l[q], near_l[r]
                    if a > b:
                        a, b = b, a
                    if b > c:
                        b, c = c, b
                    if a > b:
                        a, b = b, a
                    tri_keys, tri_relax, n_tri = _push(
                        tri_keys, tri_relax, n_tri, (a * n_landmarks + b) * n_landmarks + c,
                        relax,
                    )
    return vertex, edge, tri_keys[:n_tri], tri_relax[:n_tri]


@njit(cache=True)
def witness_complex_arrays(d: np.ndarray, alpha_max: float):
    """The filtered witness 2-skeleton of ``witness_skeleton``, with GUDHI's face rule.

    A vertex is in when reached; an edge when reached and both vertices are in; a triangle
    when reached and its three edges are in. f(sigma) = max(min_w a_w(sigma), max f(facets)).
    Returns (vertices, vertex values, edges [E, 2], edge values, triangles [T, 3], triangle
    values), each dimension in lexicographic vertex order.
    """
    n_landmarks = d.shape[1]
    vertex, edge, tri_keys, tri_relax = witness_skeleton(d, alpha_max)
    vertices = np.flatnonzero(np.isfinite(vertex))
    edge_index = np.full((n_landmarks, n_landmarks), -1, dtype=np.int64)
    n_edges = 0
    for a in range(n_landmarks):
        for b in range(a + 1, n_landmarks):
            if np.isfinite(edge[a, b]) and np.isfinite(vertex[a]) and np.isfinite(vertex[b]):
                edge_index[a, b] = n_edges
                n_edges += 1
    edges = np.empty((n_edges, 2), dtype=np.int64)
    edge_values = np.empty(n_edges)
    for a in range(n_landmarks):
        for b in range(a + 1, n_landmarks):
            e = edge_index[a, b]
            if e >= 0:
                edges[e, 0] = a
                edges[e, 1] = b
                edge_values[e] = max(edge[a, b], vertex[a], vertex[b])
    order = np.argsort(tri_keys, kind="mergesort")
    triangles = np.empty((order.shape[0], 3), dtype=np.int64)
    triangle_values = np.empty(order.shape[0])
    n_tri = 0
    i = 0
    while i < order.shape[0]:
        key = tri_keys[order[i]]
        relax = tri_relax[order[i]]
        i += 1
        while i < order.shape[0] and tri_keys[order[i]] == key:
            relax = min(relax, tri_relax[order[i]])
            i += 1
        a = key // (n_landmarks * n_landmarks)
        b = key // n_landmarks % n_landmarks
        c = key % n_landmarks
        ab, ac, bc = edge_index[a, b], edge_index[a, c], edge_index[b, c]
        if ab < 0 or ac < 0 or bc < 0:
            continue
        triangles[n_tri, 0] = a
        triangles[n_tri, 1] = b
        triangles[n_tri, 2] = c
        triangle_values[n_tri] = max(relax, edge_values[ab], edge_values[ac], edge_values[bc])
        n_tri += 1
    return (vertices, vertex[vertices], edges, edge_values, triangles[:n_tri],
            triangle_values[:n_tri])


@njit(cache=True)
def h1_from_arrays(n_vertices: int, edges: np.ndarray, edge_values: np.ndarray,
                   triangles: np.ndarray, triangle_values: np.ndarray):
    """H1 (births, deaths) of a filtered 2-complex given in lexicographic order per dimension.

    Simplices are ordered by (value, vertices), a filtration order; zero-length pairs are
    dropped and never-filled cycles die at inf.
    """
    edge_order = np.argsort(edge_values, kind="mergesort")  # stable: ties by vertices
    rank_matrix = np.full((n_vertices, n_vertices), -1, dtype=np.int64)
    for rank in range(edge_order.shape[0]):
        e = edge_order[rank]
        rank_matrix[edges[e, 0], edges[e, 1]] = rank
    tri_order = np.argsort(triangle_values, kind="mergesort")
    faces = np.empty((tri_order.shape[0], 3), dtype=np.int64)
    for t in range(tri_order.shape[0]):
        a, b, c = triangles[tri_order[t], 0], triangles[tri_order[t], 1], triangles[tri_order[t], 2]
        faces[t, 0] = rank_matrix[a, b]
        faces[t, 1] = rank_matrix[a, c]
        faces[t, 2] = rank_matrix[b, c]
    status = h1_pairing(n_vertices, edges[edge_order, 0], edges[edge_order, 1], faces)
    births = np.empty(status.shape[0])
    deaths = np.empty(status.shape[0])
    count = 0
    for rank in range(status.shape[0]):
        if status[rank] == NEGATIVE:
            continue
        birth = edge_values[edge_order[rank]]
        death = np.inf if status[rank] < 0 else triangle_values[tri_order[status[rank]]]
        if death > birth:
            births[count] = birth
            deaths[count] = death
            count += 1
    return births[:count], deaths[:count]
