"""The quest's writes, one module per domain seam.

- :mod:`.visitors`: a visitor's record and the one way to change it (:func:`commit`);
- :mod:`.outbox`: the events committed with a change, projected and published after;
- :mod:`.missions`: answers, hints, first-seen times, badges and nicknames;
- :mod:`.teams`: team records and credits; :mod:`.membership`: joining and creating;
- :mod:`.boards`: the daily leaderboards;
- :mod:`.options`: the per-tour key of the opaque option values.

Every record is in the tour's store (``ctx.tour_store``, see :mod:`..records`).
"""
