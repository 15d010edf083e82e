package arch

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestImageNames: the script that builds the images names them as the code that runs them does.
func TestImageNames(t *testing.T) {
	script, err := os.ReadFile(filepath.Join("..", "..", "deploy", "images", "build.sh"))
	require.NoError(t, err)
	for env, name := range map[string]string{
		"CHAOSBENCH_BASE_IMAGE":   DefaultBaseImage,
		"CHAOSBENCH_REFAPI_IMAGE": DefaultRefapiImage,
		"CHAOSBENCH_LOADER_IMAGE": DefaultLoaderImage,
	} {
		require.Contains(t, string(script), "${"+env+":-"+name+"}", "build.sh's default for %s", env)
	}
}
