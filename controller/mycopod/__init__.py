"""MycoPod: keeps a Proxmox VE cluster in the state its owner wrote down in plain English."""

__version__ = "0.1.0"
