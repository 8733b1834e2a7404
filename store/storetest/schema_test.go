package storetest

import (
	"os"
	"path/filepath"
	"testing"
)

// TestEmbeddedSchema: the schema that the helpers embed is the reference
// database's, byte for byte.
func TestEmbeddedSchema(t *testing.T) {
	ref, err := os.ReadFile(filepath.Join("..", "..", "testdata", "reference", "schema.sql"))
	if err != nil {
		t.Fatal(err)
	}
	if string(ref) != schemaDump {
		t.Error("store/storetest/schema.sql differs from testdata/reference/schema.sql")
	}
}
