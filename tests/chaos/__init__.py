"""`make chaos`: two or more workers under a seeded fault schedule, then an independent checker.

The harness (`cluster`, `proxy`, `schedule`, `traffic`) runs one Tansu broker, a fresh PostgreSQL
database behind a TCP proxy it controls, and `fengqiao worker` processes in one group; the checker
(`checker`) reads only the database and the topics, and judges them against the feed generator's
ground truth. Run one seed with `python -m tests.chaos --seed 1`.
"""
