"""MycoPod api."""
