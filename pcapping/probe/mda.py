"""``--multipath``: the Multipath Detection Algorithm (MDA) of Paris traceroute.

Load balancers send different flows different ways; one Paris flow sees one path.  The
MDA (Augustin, Friedman, Teixeira; Veitch et al.) asks with many flows and stops, at
each hop, once enough flows were answered that a further interface would have shown up
with the chosen confidence:

- ``stopping_point(k, eps)``: having seen ``k`` interfaces, how many answered flows rule
  out a ``k+1``-th one (all ``k+1`` equally likely) with failure probability ``eps``:
  the smallest ``n`` with ``(k+1) * (k/(k+1))**n <= eps`` (the union bound).  At 95% this
  is 6, 11, 16, 21, 27, 33 ... (Paris traceroute's table, ``--confidence 95``);
  pcapping's default is 99.9% (11, 20, 29, 39, 48 ...), because a pair of equal-cost
  routers is then missed about one run in a thousand rather than one in 32;
- hop level: hop ``h`` needs ``stopping_point(k_h)`` answered flows (``k_h``: interfaces
  seen there so far);
- node control: each interface ``r`` at ``h-1`` needs ``stopping_point(k_r)`` answered
  flows at ``h`` among the flows that went through ``r`` (``k_r``: the successors seen
  through it); when too few flows are known to pass ``r``, new flows are sent at ``h-1``
  until enough land on it (bounded by ``--max-flows``).

A new flow is probed at the hop that needs it and at the nearest answering hop before
it, so the link into that hop is known (across silent hops, which answer nobody).  A
hop where no flow is ever answered is given up after ``stopping_point(1)`` flows; one
that answers fewer than half of the flows it was sent (a rate limiter) keeps what it
has; any hop gets at most three times its stopping point.

The schedule first finds the destination with one Paris flow, one probe per TTL (so
silent hops' probes time out after ``NEAR`` times a later hop's RTT, as traceroute's),
then plans rounds: every probe a round needs goes out (``-N`` at a time), and the next
round is planned once they are all answered or given up.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pcapping.probe.trace import Rec, TraceStrategy


def stopping_point(k: int, eps: float) -> int:
    """Answered flows needed, ``k`` interfaces seen, to rule out one more (``eps``)."""
    k = max(1, k)
    return math.ceil(math.log(eps / (k + 1)) / math.log(k / (k + 1)))


NO_ANSWER = b""  # a flow probed at a TTL and not answered


class MdaSchedule:
    """The multipath schedule (see the module docstring)."""

    def __init__(self, s: TraceStrategy) -> None:
        self.s = s
        o = s.opts
        self.eps = max(1e-9, 1.0 - o.confidence)
        self.flows = 0  # flows created: 0 .. flows-1
        self.results: dict[int, dict[int, bytes]] = {}  # ttl -> flow -> address / NO_ANSWER
        self.final_at: dict[int, int] = {}  # flow -> the TTL it reached the destination
        self.attempts: dict[int, int] = {}  # ttl -> probes sent there
        self.queue: list[tuple[int, int]] = []  # (ttl, flow) to send this round
        self.outstanding: list[Rec] = []
        self.phase = "discover"
        self.discover_next = o.first_ttl
        self.last_send = 0.0
        self.rounds = 0
        self.finished = False

    # --- the engine's loop ---
    def done(self, now: float) -> bool:
        return self.finished

    def completed(self, rec: Rec) -> None:
        s = self.s
        if rec in self.outstanding:
            self.outstanding.remove(rec)
        r = rec.result
        assert r is not None
        self.results.setdefault(rec.ttl, {})[rec.flow] = r.src or NO_ANSWER
        if r.final and r.src is not None:
            prev = self.final_at.get(rec.flow)
            if prev is None or rec.ttl < prev:
                self.final_at[rec.flow] = rec.ttl
        s.report.probe(r)

    def top(self) -> int:
        """The last TTL worth probing: the destination's, once known."""
        reached = self.s.reached_ttl
        return reached if reached is not None else self.s.opts.max_ttl

    def pump(self, now: float) -> int:
        s = self.s
        o = s.opts
        for rec in list(self.outstanding):
            if s.overdue(rec, now):
                s.give_up(rec)
        if self.phase == "discover":
            if self.flows == 0:
                self.flows = 1
            while (self.discover_next <= self.top() and len(self.outstanding) < o.sim
                   and not self.queue):
                self.queue.append((self.discover_next, 0))
                self.discover_next += 1
            if not self.queue and not self.outstanding and self.discover_next > self.top():
                self.phase = "mda"
        if self.phase == "mda" and not self.queue and not self.outstanding:
            self.queue = self.plan()
            self.rounds += 1
            if not self.queue:
                self.finished = True
                s.next_time = None
                return 0
        sent = 0
        from pcapping.probe.trace import Rec

        while self.queue and len(self.outstanding) < o.sim:
            if o.sendwait_s and self.last_send + o.sendwait_s > now:
                break
            ttl, flow = self.queue.pop(0)
            if ttl > self.top():
                continue
            rec = Rec(ttl, self.attempts.get(ttl, 0) + 1, flow)
            self.attempts[ttl] = rec.n
            s.send(rec, now)
            self.outstanding.append(rec)
            self.last_send = now
            sent += 1
        wake = [rec.sent_at + s.timeout(rec) for rec in self.outstanding]
        if self.queue and o.sendwait_s:
            wake.append(self.last_send + o.sendwait_s)
        s.next_time = min(wake) if wake else now
        return sent

    def finish(self, now: float) -> None:
        for rec in list(self.outstanding):
            self.s.give_up(rec)

    # --- planning ---
    def _active(self, ttl: int) -> bool:
        """A hop still worth sending new flows to (not silent, not rate-limiting)."""
        return not self._silent(ttl) and not self._limited(ttl)

    def _silent(self, ttl: int) -> bool:
        """No flow was ever answered at ``ttl`` though several were tried."""
        res = self.results.get(ttl, {})
        return len(res) >= stopping_point(1, self.eps) and not any(res.values())

    def _limited(self, ttl: int) -> bool:
        """Fewer than half the flows tried at ``ttl`` were answered: asking more would
        only feed a rate limiter (or a lossy hop); the hop keeps what it has."""
        res = self.results.get(ttl, {})
        answered = sum(1 for a in res.values() if a)
        return len(res) >= stopping_point(1, self.eps) and 2 * answered < len(res)

    def plan(self) -> list[tuple[int, int]]:
        """The probes the next round needs; empty when every hop met its stopping rule.

        Deficits first: each hop's (answered flows short of its stopping point) and each
        interface's (answered flows through it short of its successors' stopping point).
        Known flows not yet probed where a deficit is fill it first; what remains is
        met with new flows, each probed at every hop up to the destination that is
        neither silent nor rate-limiting, so every flow's path is known end to end.
        """
        o = self.s.opts
        eps = self.eps
        top = self.top()
        want: list[tuple[int, int]] = []
        wanted: set[tuple[int, int]] = set()
        new_needed = 0

        def use(h: int, n: int, pool: list[int] | range) -> int:
            """Probe up to ``n`` known flows of ``pool`` at ``h``; how many are missing."""
            res = self.results.get(h, {})
            for f in pool:
                if n <= 0:
                    break
                if f not in res and (h, f) not in wanted and self._reaches(f, h):
                    want.append((h, f))
                    wanted.add((h, f))
                    n -= 1
            return max(0, n)

        for h in range(o.first_ttl, top + 1):
            res = self.results.get(h, {})
            answered = {f: a for f, a in res.items() if a}
            if not answered:  # silent so far: stopping_point(1) flows, then give up
                short = stopping_point(1, eps) - len(res)
                if short > 0:
                    new_needed = max(new_needed, use(h, short, range(self.flows)))
                continue
            if self._limited(h):
                continue
            need = stopping_point(len(set(answered.values())), eps)
            if len(answered) < need and len(res) < 3 * need:
                new_needed = max(new_needed, use(h, need - len(answered), range(self.flows)))
            # node control: enough answered flows at h through each interface of h-1
            prev = self.results.get(h - 1)
            if not prev or not self._active(h - 1):
                continue  # new flows would not be probed there: nothing to learn
            through: dict[bytes, list[int]] = {}
            for f, a in prev.items():
                if a:
                    through.setdefault(a, []).append(f)
            share = {a: len(fl) / max(1, sum(1 for x in prev.values() if x))
                     for a, fl in through.items()}
            for a, flows_r in through.items():
                got = [f for f in flows_r if res.get(f)]
                probed = [f for f in flows_r if f in res]
                need_r = stopping_point(len({res[f] for f in got}), eps)
                if len(got) >= need_r or len(probed) >= 3 * need_r:
                    continue
                short = use(h, need_r - len(got), flows_r)
                if short:  # new flows land on this interface with its share of them
                    new_needed = max(new_needed, math.ceil(short / max(share[a], 0.1)))
        room = max(0, o.max_flows - self.flows)
        for _ in range(min(new_needed, room)):
            flow = self.flows
            self.flows += 1
            for h in range(o.first_ttl, top + 1):
                if self._active(h) or not self.results.get(h):
                    want.append((h, flow))
        return want

    def _reaches(self, flow: int, ttl: int) -> bool:
        """Whether a flow gets as far as ``ttl`` (it has not reached the destination
        before it)."""
        at = self.final_at.get(flow)
        return at is None or at >= ttl

    # --- the result ---
    def graph(self) -> dict[str, Any]:
        """Interfaces per hop (with the flows that met them) and the links between hops."""
        hops: dict[int, dict[bytes, list[int]]] = {}
        for ttl in sorted(self.results):
            if ttl > self.top():
                continue
            per: dict[bytes, list[int]] = {}
            for f, a in sorted(self.results[ttl].items()):
                if a:
                    per.setdefault(a, []).append(f)
            hops[ttl] = per
        links: dict[tuple[int, bytes, int, bytes], list[int]] = {}
        top = self.top()
        for f in range(self.flows):
            path = [(t, self.results[t][f]) for t in sorted(self.results)
                    if t <= top and self.results[t].get(f)]
            for (t1, a1), (t2, a2) in zip(path, path[1:], strict=False):
                # across a gap only when every TTL in it is silent (not merely unanswered
                # for this flow: a rate-limited hop in between says nothing of the link)
                if all(self._silent(t) for t in range(t1 + 1, t2)):
                    links.setdefault((t1, a1, t2, a2), []).append(f)
        return {"hops": hops, "links": links, "flows": self.flows, "rounds": self.rounds}


__all__ = ["MdaSchedule", "stopping_point"]
