-- Idempotency keys of CreateActivity: a retried request (a loader rerun
-- after a crash) returns the activity it scheduled instead of a second one.
CREATE TABLE activity_requests (
    request_id  UUID PRIMARY KEY,
    activity_id UUID NOT NULL REFERENCES activities (id)
);
