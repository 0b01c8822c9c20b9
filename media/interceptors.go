package media

import (
	"github.com/pion/interceptor"
	"github.com/pion/rtp"
)

// headerReuse is the innermost interceptor of every received stream. Pion reads a stream
// with no attributes, so each interceptor reading the RTP header (NACK generator, receiver
// reports) would allocate a map and a parsed header per packet, most of the SFU's heap
// allocations. This one hands them a map and a header reused for the stream's packets: they
// read the header at once and keep neither (one reader per stream, so no lock).
type headerReuse struct {
	interceptor.NoOp
	// key is the attributes key under which Pion caches a parsed header (unexported by
	// Pion, found by asking it to cache one); nil if it could not be found.
	key any
}

// headerReuseFactory makes the interceptor of each PeerConnection.
type headerReuseFactory struct{ key any }

func newHeaderReuseFactory() *headerReuseFactory {
	probe := interceptor.Attributes{}
	// The smallest RTP packet: version 2, no CSRC, no extension.
	if _, err := probe.GetRTPHeader([]byte{0x80, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1}); err != nil || len(probe) != 1 {
		return &headerReuseFactory{}
	}
	f := &headerReuseFactory{}
	for k := range probe {
		f.key = k
	}
	return f
}

func (f *headerReuseFactory) NewInterceptor(string) (interceptor.Interceptor, error) {
	return &headerReuse{key: f.key}, nil
}

func (h *headerReuse) BindRemoteStream(_ *interceptor.StreamInfo, reader interceptor.RTPReader) interceptor.RTPReader {
	if h.key == nil {
		return reader
	}
	attrs := interceptor.Attributes{}
	header := &rtp.Header{}
	return interceptor.RTPReaderFunc(func(b []byte, a interceptor.Attributes) (int, interceptor.Attributes, error) {
		n, a, err := reader.Read(b, a)
		if err != nil || a != nil {
			return n, a, err
		}
		clear(attrs)
		// A header that does not parse is left for the next interceptor to refuse.
		if _, perr := header.Unmarshal(b[:n]); perr == nil {
			attrs[h.key] = header
		}
		return n, attrs, nil
	})
}
