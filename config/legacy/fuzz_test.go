package legacy_test

import (
	"testing"

	"github.com/sdpkit/sdpkit/config/legacy"
)

// FuzzParseEntities: stored processing blocks and deployments come from
// other processes. Decoding never panics, a valid entity always encodes,
// and its encoding decodes and encodes again to the same bytes.
func FuzzParseEntities(f *testing.F) {
	f.Add([]byte(`{"dependencies": [], "id": "pb-1", "parameters": {"x": 1.0}, "sbi_id": null, "workflow": {"id": "a", "type": "batch", "version": "1"}, "extra": [1]}`))
	f.Add([]byte(`{"args": {"chart": "c", "values": {}}, "id": "d-1", "type": "helm"}`))
	f.Add([]byte(`{"workflow": 5}`))
	f.Add([]byte(`{"id": "pb-1", "workflow": {"id": "a", "type": "b", "version": "1"}, "parameters": {"x": NaN}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if pb, err := legacy.ParseProcessingBlock(data); err == nil && pb.Validate() == nil {
			b, err := pb.JSON()
			if err != nil {
				t.Fatalf("%q: encoding: %v", data, err)
			}
			back, err := legacy.ParseProcessingBlock(b)
			if err != nil || !sameJSON(back.JSON, b) {
				t.Fatalf("%q: round trip %q: %v", data, b, err)
			}
		}
		if d, err := legacy.ParseDeployment(data); err == nil && d.Validate() == nil {
			b, err := d.JSON()
			if err != nil {
				t.Fatalf("%q: encoding: %v", data, err)
			}
			back, err := legacy.ParseDeployment(b)
			if err != nil || !sameJSON(back.JSON, b) {
				t.Fatalf("%q: round trip %q: %v", data, b, err)
			}
		}
	})
}

// sameJSON reports whether the re-encoded entity has the bytes b (bytes,
// not values, so NaN parameters compare equal).
func sameJSON(enc func() ([]byte, error), b []byte) bool {
	got, err := enc()
	return err == nil && string(got) == string(b)
}
