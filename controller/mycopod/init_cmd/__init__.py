"""``mycopod init``: the first set-up, asked for or given as flags.

It asks for (or takes) the Proxmox URL and token, the declarations repository and the
database (embedded by default), checks each answer live the way ``mycopod doctor`` does,
then writes the settings file, one credential file per secret (mode 0600, in a 0700
folder) and the systemd unit with a ``LoadCredential=`` line for each of them, and
prints the next commands.

- :mod:`.files`: what is written, from the answers (the unit comes from the packaged
  ``mycopod.service``);
- :mod:`.setup`: the answers, their live checks and the interactive questions
  (questionary).
"""
