package pii_test

import (
	"fmt"

	"github.com/goodbot/goodbot/pii"
)

func ExampleFilter_RedactHTML() {
	f, err := pii.New(pii.Config{}) // all entities, replace, sensitive pages dropped
	if err != nil {
		panic(err)
	}
	body := []byte(`<p>联系人：王小明，手机 <a href="tel:+8613812345678">138 1234 5678</a></p>` +
		`<p>订单号 110105194912310021</p>`)
	out, rep, err := f.RedactHTML(body)
	if err != nil {
		panic(err)
	}
	fmt.Println(string(out))
	fmt.Println(rep.Counts, rep.Drop)
	// Output:
	// <p>联系人：[CN_PERSON_NAME]，手机 <a href="tel:[CN_MOBILE]">[CN_MOBILE]</a></p><p>订单号 110105194912310021</p>
	// map[CN_MOBILE:2 CN_PERSON_NAME:1] false
}

func ExampleFilter_RedactURL() {
	f, err := pii.New(pii.Config{HMACKey: []byte("per-job secret")})
	if err != nil {
		panic(err)
	}
	fmt.Println(f.RedactURL("https://example.com/profile?phone=13812345678&tab=2"))
	fmt.Println(f.RedactURL("https://example.com/u/alice@example.com"))
	// Output:
	// https://example.com/profile?phone=%5BCN_MOBILE%3Aapgnhcmjdaoeejkb%5D&tab=2
	// https://example.com/u/%5BEMAIL:ajigljekodgcicah%5D
}

func ExampleFilter_ScanText() {
	f, err := pii.New(pii.Config{})
	if err != nil {
		panic(err)
	}
	text := []byte("身份证号：11010519491231002X")
	for _, x := range f.ScanText(text) {
		fmt.Println(x.Entity, x.Tier, x.Score, x.Start, x.End, x.Rule)
	}
	// Output:
	// CN_RESIDENT_ID checksum+context 0.95 15 33 cn-id-18
}
