"""MycoPod store."""
