"""Lunch 'n' Learn: group sessions anyone proposes, filled seat by seat, reminded, rated. Plain domain
logic: callers own the transaction and pass `now`; messages are queued through announcements.notify."""
