"""How a wait for an APIMart task ends: one poller, one event, one handler, on every path.

``rules`` is how one wait polls (checked once, shared by the operators, the sensor and the
trigger); ``poller`` decides (no I/O) when to read the status next and when the wait is over;
``loops`` reads the status for it on a worker or in the triggerer; ``events`` is the one event
that ends a wait; ``outcome`` turns that event into the task's result or into the same typed
error, for the operators and the sensor alike.
"""
