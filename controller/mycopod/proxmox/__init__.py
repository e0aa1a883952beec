"""MycoPod proxmox."""
