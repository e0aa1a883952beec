"""Declarations: from the owner's Markdown in git to a validated ``ClusterSpec``.

- :mod:`.grammar` (a sub-package) compiles a file's text, deterministically and offline
  (``grammar.compile_text``): :mod:`.grammar.markdown` finds the declaration text
  (paragraphs, list items), :mod:`.grammar.tokens` and :mod:`.grammar.lexicon` (words),
  :mod:`.grammar.quantities` and :mod:`.grammar.names`, the phrase parsers
  (:mod:`.grammar.hardware`, :mod:`.grammar.networking`, :mod:`.grammar.phrases`),
  :mod:`.grammar.subjects` and :mod:`.grammar.sentences` read it, collecting into
  :mod:`.grammar.drafts`; :mod:`.grammar.document` is the entry point;
- :mod:`.llm` compiles what the grammar rejects, when an LLM is configured;
- :mod:`.compiler` chains the two for one file; :mod:`.merge` joins a commit's files;
- :mod:`.render` writes a spec back as declaration English;
- :mod:`.source` follows the git repository; :mod:`.webhook` verifies GitHub pushes;
- :mod:`.pipeline` compiles a commit through the compile cache and records it
  (``compile_commit``; the spec in force is ``DeclarationStore.latest_good()``);
- :mod:`.facts` describes the cluster for the LLM and checks its answers;
- :mod:`.cli` is ``mycopod compile``.
"""
