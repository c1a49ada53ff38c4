"""The shell: Faust worker, outbox relay, embedded broker, demo feed and the `fengqiao` CLI."""
