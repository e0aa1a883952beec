"""MycoPod pvesim."""
