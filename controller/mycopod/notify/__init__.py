"""Notifications (``[notify]``): what the reconcile path tells people, through Apprise."""
