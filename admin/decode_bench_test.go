package admin

import "testing"

func BenchmarkDecodeMessage(b *testing.B) {
	body := []byte(`{"type":1,"targets":[100001234],"content_type":0,"content":"lt 1234567890 0000000042 abcdefghijklmnopqrstuvwxyz","from_user_id":100004321}`)
	b.ReportAllocs()
	for b.Loop() {
		var req messageRequest
		if err := decodeBytes(body, &req); err != nil {
			b.Fatal(err)
		}
	}
}
