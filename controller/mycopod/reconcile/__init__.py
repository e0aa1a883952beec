"""MycoPod reconcile."""
