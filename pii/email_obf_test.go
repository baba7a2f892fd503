package pii

import "testing"

func TestContextualMisses(t *testing.T) {
	f := mustNew(t, Config{})
	checkVectors(t, f, []vector{
		// Obfuscated e-mail.
		{"mail me: zhangsan AT 163 DOT com", []string{"EMAIL=zhangsan AT 163 DOT com"}},
		{"write to li.na at gmail dot com", []string{"EMAIL=li.na at gmail dot com"}},
		{"reach jdoe at gmail dot com today", []string{"EMAIL=jdoe at gmail dot com"}},
		{"wang.wu at pku.edu.cn", []string{"EMAIL=wang.wu at pku.edu.cn"}},
		{"邮箱：zhangsan#163.com（#换成@）", []string{"EMAIL=zhangsan#163.com"}},
		{"邮箱 lisi#qq.com (把#改成@)", []string{"EMAIL=lisi#qq.com"}},
		{"name(at)qq(dot)com", []string{"EMAIL=name(at)qq(dot)com"}},
		{"name [at] gmail [dot] com", []string{"EMAIL=name [at] gmail [dot] com"}},
		{"name{at}example{dot}org", []string{"EMAIL=name{at}example{dot}org"}},
		{"name＠163.com", []string{"EMAIL=name＠163.com"}},
		{"name@163点com", []string{"EMAIL=name@163点com"}},
		{"look at example.com for details", nil},
		{"Email us at www.example.com", nil},
		{"meet at noon dot", nil},
		{"page.html#intro.section", nil},
		{"#换成@", nil},
		{"lodash@4.17.21 and icon@2x.png", nil},
		{"{at} the top", nil},
		// Dotted mobiles.
		{"手机 138.0013.8000", []string{"CN_MOBILE=138.0013.8000"}},
		{"call 138.001.38000", []string{"CN_MOBILE=138.001.38000"}},
		{"154.0013.8000", nil},
		{"version 1.2.3", nil},
		// IPv4 in access logs and headers.
		{"203.0.113.9 - - [10/Oct/2023:13:55:36 +0000] \"GET / HTTP/1.1\" 200", []string{"IP_ADDRESS=203.0.113.9"}},
		{"log\n198.51.100.7 - frank [10/Oct/2023:13:55:36 +0000] \"GET /\"", []string{"IP_ADDRESS=198.51.100.7"}},
		{"client: 198.51.100.23", []string{"IP_ADDRESS=198.51.100.23"}},
		{"X-Forwarded-For: 203.0.113.195, 198.51.100.17", []string{"IP_ADDRESS=203.0.113.195", "IP_ADDRESS=198.51.100.17"}},
		{"Client app 3.2.35.132", nil},
		{"client version 10.0.19045.3803", nil},
		{"Windows version 10.0.19045.3803", nil},
		{"v1.2.3.4", nil},
		{"build 5.3.0.0", nil},
		{"app v2, remote addr 203.0.113.9", []string{"IP_ADDRESS=203.0.113.9"}}, // an address word after the version word
		{"扫码下载App 13812345678", []string{"CN_MOBILE=13812345678"}},              // version words only shield addresses
		{"203.0.113.9 is a documentation address", nil},
	})
}
