"""``cdc plan``: a recovery-strategy model. Pure, apart from ``measure`` (which reads the
running system).

- ``markov``: small continuous-time Markov chains, solved exactly;
- ``distribution``: the RTO and RPO distributions (mixtures of point masses, uniform and
  exponential parts, and a mass at infinity for a restore that cannot succeed);
- ``model``: the inputs, one schedule's chain, distributions and monthly cost;
- ``optimize``: every candidate schedule, the fallback-depth recursion memoized per interval,
  the cheapest schedule within the bounds, or an error naming the bound no schedule meets;
- ``measure``: the inputs read from the snapshot catalog, the changelog and past drills.

docs/plan.md explains the model and its assumptions.
"""
