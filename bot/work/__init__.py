"""Work after the ack that must survive a crash: the queue in the database (queue.py) and the
worker that claims and runs it (worker.py)."""
