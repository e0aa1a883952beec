"""MycoPod declarations."""
