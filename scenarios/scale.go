package scenarios

import "fmt"

// CheckScale is the one check of a run's scale factor (Plan.Scaled): Plan.Spec, run's, worker's and
// k8s render's --scale and a suite's scales all take a factor in (0, 10] (scaleOK) and say so in the
// same words. The error reads after the field that held f: "--scale 11: want a factor in (0, 10]".
func CheckScale(f float64) error {
	if scaleOK(f) {
		return nil
	}
	return fmt.Errorf("%g: want a factor in (0, 10]", f)
}

// scaleOK is the bound itself: a factor in (0, 10].
func scaleOK(f float64) bool { return f > 0 && f <= 10 }
