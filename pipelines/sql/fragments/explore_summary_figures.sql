        -- the summary's figures of one period (explore__summary.sql and
        -- explore__summary_mart.sql: one definition each)
        coalesce(reported_count, 0) as reported_count,
        coalesce(closed_count, 0) as closed_count,
        coalesce(on_time_count, 0) as on_time_count,
        coalesce(overdue_count, 0) as overdue_count,
        coalesce(rated_count, 0) as rated_count,
        coalesce(satisfied_count, 0) as satisfied_count,
        rate_pct(closed_count, reported_count) as closure_pct,
        rate_pct(on_time_count, closed_count + overdue_count) as on_time_pct,
        rate_pct(satisfied_count, rated_count) as satisfaction_pct,
