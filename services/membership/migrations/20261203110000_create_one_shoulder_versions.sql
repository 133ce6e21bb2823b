-- The counter behind membership.community.one_shoulder.changed: each event
-- carries its community's next version, bumped in the transaction that
-- derives it. The bump comes before the posts are read, and its row lock
-- orders concurrent changes: whoever bumps later reads after the earlier
-- one committed, so the highest version always carries the latest state.
CREATE TABLE one_shoulder_versions (
    community_id TEXT   PRIMARY KEY,
    version      BIGINT NOT NULL CHECK (version > 0)
);
