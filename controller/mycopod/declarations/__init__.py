"""Declarations: from the owner's Markdown in git to a validated ``ClusterSpec``.

- :mod:`.markdown` finds the declaration text (paragraphs, list items) in a file;
- :mod:`.grammar` compiles it, deterministically and offline (``compile_text``), from
  :mod:`.tokens` and :mod:`.lexicon` (words), :mod:`.quantities` and :mod:`.names`,
  the phrase parsers (:mod:`.hardware`, :mod:`.networking`, :mod:`.phrases`),
  :mod:`.subjects` and :mod:`.sentences`, collecting into :mod:`.drafts`;
- :mod:`.llm` compiles what the grammar rejects, when an LLM is configured;
- :mod:`.compiler` chains the two for one file; :mod:`.merge` joins a commit's files;
- :mod:`.render` writes a spec back as declaration English;
- :mod:`.source` follows the git repository; :mod:`.webhook` verifies GitHub pushes;
- :mod:`.pipeline` compiles a commit through the compile cache and records it
  (``compile_commit``; the spec in force is ``DeclarationStore.latest_good()``);
- :mod:`.facts` describes the cluster for the LLM and checks its answers;
- :mod:`.cli` is ``mycopod compile``.
"""
