-- What the grammar read and deliberately did not use (issue 13, "no word is ever silently
-- ignored"): a grammar result in the compile cache keeps its notes (``ignored as context:
-- '...'``, quoted e-mail text, form metadata ...) as a JSON list of [line, note], so a file
-- or paragraph compiled from the cache shows them like one compiled now
-- (declarations/pipeline.py, declarations/paragraph_cache.py). NULL: not a grammar result.
-- The grammar's results cached before this migration do not know their notes; they are
-- dropped and compiled once more on their next use.

-- migrate:up

ALTER TABLE compile_cache ADD COLUMN ignored JSONB;

DELETE FROM compile_cache WHERE compiler IN ('grammar', 'grammar-paragraph');

-- migrate:down

ALTER TABLE compile_cache DROP COLUMN ignored;
