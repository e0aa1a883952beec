"""Reading a local declarations repository in place, for ``mycopod compile --repo``."""

from __future__ import annotations

from pathlib import Path

from mycopod.config import DeclarationsSettings
from mycopod.declarations.source import GitSource, SourceError


def read_repository(path: Path, settings: DeclarationsSettings, *,
                    commit: str | None = None) -> dict[str, str]:
    """Declaration files of a local repository at ``commit`` (default: the branch head).

    For ``mycopod compile --repo``: the repository is read in place, without a clone.
    """
    import git

    try:
        repo = git.Repo(path)
    except (git.NoSuchPathError, git.InvalidGitRepositoryError):
        raise SourceError(f"{path} is not a git repository") from None
    if commit is None:
        for ref in (settings.branch, f"origin/{settings.branch}", "HEAD"):
            try:
                commit = repo.commit(ref).hexsha
                break
            except (ValueError, git.BadName, git.GitError):
                continue
        else:
            raise SourceError(f"{path} has no commits on branch {settings.branch!r}")
    source = GitSource(settings.model_copy(update={"repo": str(path)}), state_dir=Path(path))
    source._repo = repo  # read in place: no clone of a local repository is needed
    return source.files_at(str(commit))
