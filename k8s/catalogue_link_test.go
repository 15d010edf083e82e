package k8s

// The scenarios these tests render have thresholds, whose metric names are checked against the catalogue
// results declares (threshold.SetCatalogue): chaosbench links it, and so do these tests.
import _ "github.com/chaosbench/chaosbench/results"
