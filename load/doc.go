// Package load drives open-model HTTP load against the reference API contract
// and records what really happened.
//
// The engine separates three concerns that a closed-loop tool mixes up:
//
//   - when a request should be sent: a sequence of named Phases, each paced by
//     a vegeta Pacer evaluated on a virtual clock, so the planned send time of
//     request n depends only on the pacer and n, never on response times;
//   - how it is sent: a worker pool bounded by an in-flight cap, an Exec that
//     performs one logical call with idempotent retries (same Idempotency-Key),
//     exponential backoff with full jitter and a total time budget;
//   - what is kept: per-request records streamed to records.jsonl, HDR
//     histograms per op × phase (cumulative) and per op × phase × second
//     (written to latency.hlog and summarised in Result.Timeline), and a write
//     Ledger of orders, resource increments and sessions for the checker.
//
// Latency is measured from the planned send time and includes late dispatch,
// every retry and any re-login: what a user of the API waited. Requests that
// could not be sent (too late, or the in-flight cap was reached) are counted as
// shed, never dropped silently. Every run stops by itself after the sum of its
// phases plus Config.Grace.
package load
