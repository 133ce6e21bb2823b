-- Counters behind centres.coverage.changed and centres.compliance.changed:
-- each event carries its community's (centre's) next version, bumped in the
-- transaction that publishes it. The row lock of the bump also orders
-- concurrent publishers: whoever bumps later computes after the earlier one
-- committed, so the highest version always carries the latest state.
CREATE TABLE coverage_versions (
    community_id TEXT   PRIMARY KEY,
    version      BIGINT NOT NULL CHECK (version > 0)
);

CREATE TABLE compliance_versions (
    centre_id TEXT   PRIMARY KEY,
    version   BIGINT NOT NULL CHECK (version > 0)
);
