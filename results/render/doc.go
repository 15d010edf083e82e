// Package render writes what results found: a run's reports (summary.json, text, Markdown, HTML with its
// SVG charts, JUnit XML), a suite's combined reports, a comparison's formats, and GitHub's step summary.
// It reads results' types and never decides anything: the verdicts, thresholds and the text of the rules
// are results'. Each kind of format is a Registry, listed in an explicit rank order that `chaosbench`'s
// --format flags and their help read, so that a new format is one file (docs/reports.md).
package render
