-- driftd-history.sql - a table for `driftd --once --step ... --format csv`.
--
--   psql -f driftd-history.sql
--   driftd --once --step 1d --format csv -c /etc/driftd/driftd.conf \
--       /var/log/model/predictions.jsonl* |
--     psql -c "COPY driftd_history FROM STDIN (FORMAT csv, HEADER true)"
--
-- One row per step, column and test; a column below min_samples has one
-- row with no test; the row with column '__dataset__' holds the share of
-- drifted features (score) and the dataset's verdict.  Empty fields load
-- as NULL: a figure that is not defined.
CREATE TABLE IF NOT EXISTS driftd_history (
    time              timestamptz NOT NULL,   -- the step's end
    model             text NOT NULL,
    "column"          text NOT NULL,
    test              text,                   -- ks, psi, js, wasserstein, chi2
    window_samples    double precision,
    reference_samples double precision,
    missing_ratio     double precision,
    mean              double precision,
    stddev            double precision,
    score             double precision,
    pvalue            double precision,
    threshold         double precision,
    drift_detected    smallint                -- on the deciding test's row
);

CREATE INDEX IF NOT EXISTS driftd_history_time
    ON driftd_history (model, "column", time);

-- Replaying the same logs twice loads the same rows twice; to redo a
-- range, delete it first:
--   DELETE FROM driftd_history WHERE model = 'iris-rf' AND time >= '2026-09-01';

-- The dataset's verdict per day, as the Grafana panel in
-- driftd-history-panel.json shows it:
--   SELECT time, drift_detected FROM driftd_history
--   WHERE "column" = '__dataset__' AND model = 'iris-rf' ORDER BY time;
