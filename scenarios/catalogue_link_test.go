package scenarios

// The threshold grammar checks metric names against the catalogue results declares (threshold.SetCatalogue):
// every program that validates a scenario links results, and so do these tests. scenarios itself does not
// import it (TestPure).
import _ "github.com/chaosbench/chaosbench/results"
