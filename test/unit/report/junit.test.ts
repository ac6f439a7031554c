import { describe, expect, it } from 'vitest';
import { renderReport } from '../../../agent/report/index.js';
import { escapeAttr, escapeText } from '../../../agent/report/xml.js';
import { controlPlaneReport, finding, report } from './sample-report.js';
import { descendants, parseXml } from './xml-parse.js';

describe('junit format', () => {
  it('is well-formed XML: testsuites → a testsuite per component → a testcase per finding', () => {
    const root = parseXml(renderReport('junit', controlPlaneReport()));
    expect(root.name).toBe('testsuites');
    expect(root.attrs).toMatchObject({ tests: '10', failures: '4', errors: '1', skipped: '1' });
    const suites = root.children;
    expect(suites.every((s) => s.name === 'testsuite')).toBe(true);
    expect(suites.map((s) => s.attrs.name)).toEqual(['kube-apiserver', 'etcd', 'cluster', 'kubelet', 'node']);
    expect(suites.map((s) => s.children.length)).toEqual([4, 1, 2, 1, 2]);
    expect(suites[0].attrs).toMatchObject({ tests: '4', failures: '1', errors: '0', skipped: '1', hostname: 'cp-1' });
    expect(descendants(root, 'testcase')).toHaveLength(10);
  });

  it('maps fail → <failure>, error → <error>, skip → <skipped>, warn → <system-out>, pass → empty', () => {
    const root = parseXml(renderReport('junit', controlPlaneReport()));
    const cases = descendants(root, 'testcase');
    const byCis = (prefix: string) => cases.filter((c) => c.attrs.name.startsWith(prefix + ' '));
    const anon = byCis('1.2.1')[0];
    expect(anon.children.map((c) => c.name)).toEqual(['failure']);
    expect(anon.children[0].attrs).toEqual({ message: 'true, want false', type: 'high' });
    expect(anon.children[0].text).toContain('remediation: Set --anonymous-auth=false in <kube-apiserver.yaml> & restart "it".');
    expect(anon.attrs.classname).toBe('vigil.kube-apiserver');
    expect(byCis('1.2.2')[0].children.map((c) => c.name)).toEqual(['skipped']);
    expect(byCis('1.2.2')[0].children[0].attrs.message).toBe('flag removed in this version');
    const warn = byCis('1.2.10')[0];
    expect(warn.children.map((c) => c.name)).toEqual(['system-out']);
    expect(warn.children[0].text).toMatch(/^WARN \(low\): /);
    expect(byCis('1.1.1')[0].children).toEqual([]);
    expect(byCis('vigil.gather-error')[0].children.map((c) => c.name)).toEqual(['error']);
  });

  it('names each testcase by CIS id, title and resource so multi-file checks stay distinct', () => {
    const cases = descendants(parseXml(renderReport('junit', controlPlaneReport())), 'testcase');
    const names = cases.map((c) => c.attrs.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toContain('1.1.13 Admin kubeconfig files mode 600 or tighter [/etc/kubernetes/admin.conf]');
    expect(names).toContain('4.2.1 Kubelet anonymous auth is disabled');
  });

  it('escapes markup and makes characters XML forbids visible instead of breaking the document', () => {
    const hostile = 'a<b>&"c\'\u0000\u0001\u001b[31m\ud800\uffff\tend\r\n';
    const r = report([finding({
      checkId: 'x<y', cis: null, status: 'fail', title: hostile, resource: { kind: 'file', path: `/etc/${hostile}` },
      evidence: { source: 'stat', value: hostile, expected: ']]>', detail: hostile },
    })]);
    const xml = renderReport('junit', r);
    const root = parseXml(xml);
    const tc = descendants(root, 'testcase')[0];
    const visible = 'a<b>&"c\'\\u0000\\u0001\\u001b[31m\\ud800\\uffff\tend\r\n';
    expect(tc.attrs.name).toBe(`x<y ${visible} [/etc/${visible}]`);
    expect(tc.attrs.classname).toBe('vigil.node');
    const failure = tc.children[0];
    expect(failure.attrs.message).toBe(`${visible}, want ]]>`);
    expect(failure.text.split('\n')[0]).toBe(visible.split('\n')[0]);
    expect(xml).not.toContain(']]>');
  });

  it('renders an empty report as an empty, valid testsuites element', () => {
    const root = parseXml(renderReport('junit', report([])));
    expect(root.attrs.tests).toBe('0');
    expect(root.children).toEqual([]);
  });
});

describe('xml escaping', () => {
  it('keeps whitespace in attributes as character references', () => {
    expect(escapeAttr('a\tb\nc\rd')).toBe('a&#9;b&#10;c&#13;d');
    expect(escapeText('a\tb\nc')).toBe('a\tb\nc');
  });
  it('keeps astral characters and refuses lone surrogates', () => {
    expect(escapeText('\u{1F600}')).toBe('\u{1F600}');
    expect(escapeText('x\udc00y')).toBe('x\\udc00y');
  });
});

describe('the test XML reader itself', () => {
  it('rejects what is not well-formed', () => {
    expect(() => parseXml('<a><b></a>')).toThrow(/closes/);
    expect(() => parseXml('<a x="1" x="2"/>')).toThrow(/duplicate/);
    expect(() => parseXml('<a>&foo;</a>')).toThrow(/unknown entity/);
    expect(() => parseXml('<a x="<"/>')).toThrow(/raw/);
    expect(() => parseXml('<a>\u0001</a>')).toThrow(/forbidden/);
    expect(() => parseXml('<a/><b/>')).toThrow(/after the root/);
  });
});
