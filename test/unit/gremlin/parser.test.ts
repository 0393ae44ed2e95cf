import assert from 'node:assert/strict';
import { UsageError } from '../../../src/common/errors.js';
import { GremlinSyntaxError, parseGremlin } from '../../../src/gremlin/index.js';
import { assertSyntaxError } from './helpers.js';

describe('gremlin parser', () => {
  describe('accepts', () => {
    it('the seed query with canonical step names', () => {
      const q = parseGremlin("G.V().Has('Type','ovsbridge').Out().Out().Has('Name', Without('br-int'))");
      assert.deepEqual(
        q.steps.map((s) => s.name),
        ['V', 'Has', 'Out', 'Out', 'Has'],
      );
      const pred = q.steps[4].args[1];
      assert.equal(pred.type, 'predicate');
      assert.equal(pred.type === 'predicate' && pred.name, 'Without');
    });

    it('keywords, step and predicate names in any case', () => {
      const q = parseGremlin("g.v().has('Name', within('a', 'b')).HASKEY('MTU').sort(desc, 'Name').has('X', TRUE).has('Y', false)");
      assert.deepEqual(
        q.steps.map((s) => s.name),
        ['V', 'Has', 'HasKey', 'Sort', 'Has', 'Has'],
      );
      assert.equal(q.steps[0].written, 'v');
      assert.deepEqual(q.steps[3].args[0], { type: 'keyword', value: 'DESC', offset: q.source.indexOf('desc'), text: 'desc' });
      assert.equal(q.steps[4].args[1].type, 'boolean');
    });

    it('strings quoted with either quote, ending at the next quote of either kind', () => {
      const q = parseGremlin(`G.V().Has("Name", 'eth0').Has('Driver", 'veth')`);
      assert.deepEqual(
        q.steps[1].args.map((a) => a.type === 'string' && a.value),
        ['Name', 'eth0'],
      );
      assert.equal(q.steps[2].args[0].type === 'string' && q.steps[2].args[0].value, 'Driver');
    });

    it('integers, floats and negative numbers', () => {
      const q = parseGremlin("G.V().Has('MTU', 1500, 'Load', 0.75, 'Vlan', Gt(-1))");
      const args = q.steps[1].args;
      assert.equal(args[1].type === 'number' && args[1].value, 1500);
      assert.equal(args[3].type === 'number' && args[3].value, 0.75);
      const gt = args[5];
      assert.ok(gt.type === 'predicate' && gt.args[0].type === 'number' && gt.args[0].value === -1);
    });

    it('optional commas, whitespace and newlines between tokens', () => {
      const q = parseGremlin("G .V()\n  .Has('Type' 'veth')\t.Count( )");
      assert.deepEqual(
        q.steps.map((s) => s.name),
        ['V', 'Has', 'Count'],
      );
      assert.equal(q.steps[1].args.length, 2);
    });

    it('a bare .G that restarts from the graph, and At as Context', () => {
      const q = parseGremlin("G.V().Has('Type','host').G.E().Count()");
      assert.deepEqual(
        q.steps.map((s) => s.name),
        ['V', 'Has', 'G', 'E', 'Count'],
      );
      assert.equal(parseGremlin("G.At('-1s').V()").steps[0].name, 'Context');
    });

    it('just G (the whole graph)', () => {
      assert.equal(parseGremlin('G').steps.length, 0);
    });
  });

  describe('rejects with the position and what was expected', () => {
    it('is a UsageError with code SKYDIVE_GREMLIN_SYNTAX and HTTP status 400', () => {
      const err = assertSyntaxError("G.V().Hass('Name')");
      assert.ok(err instanceof UsageError);
      assert.equal(err.code, 'SKYDIVE_GREMLIN_SYNTAX');
      assert.equal(err.statusCode, 400);
      assert.equal(err.column, 7);
      assert.equal(err.near, 'Hass');
    });

    it('an unknown step, with suggestions and the list of steps', () => {
      assertSyntaxError("G.V().Hass('Name')", 'at column 7', "near 'Hass'", 'did you mean Has', 'expected a step name (one of', 'HasEither');
      assertSyntaxError('G.V().Cout()', 'at column 7', 'did you mean Count');
    });

    it('an empty query or one not starting with G', () => {
      assertSyntaxError('', 'at column 1', 'near the end of the query', "expected 'G'");
      assertSyntaxError("V().Has('Name')", 'at column 1', "near 'V'", "expected 'G'");
      assertSyntaxError('  X', 'at column 3', "near 'X'");
    });

    it('missing dot, parenthesis or step name', () => {
      assertSyntaxError('G V()', 'at column 3', "expected '.'");
      assertSyntaxError('G.V', 'at column 4', "expected '(' after the step name V");
      assertSyntaxError('G.V().', 'at column 7', 'near the end of the query', 'expected a step name');
      assertSyntaxError('G.V().(', 'at column 7', "near '('", 'expected a step name');
      assertSyntaxError('G.V() x', 'at column 7', "near 'x'", "expected '.' and a next step, or the end of the query");
      assertSyntaxError("G.V().Has('Name'", 'at column 17', "expected ')' to close Has( opened at column 10");
    });

    it('unterminated strings, illegal characters and malformed numbers', () => {
      assertSyntaxError("G.V().Has('Name', 'eth0)", 'at column 19', 'unterminated string');
      assertSyntaxError("G.V().Has('Name' # 'x')", 'at column 18', "unexpected character '#'");
      assertSyntaxError("G.V().Has('MTU', 15ab)", 'at column 18', "malformed number '15ab'");
      assertSyntaxError("G.V().Has('MTU', 1.2.3)", "malformed number '1.2.3'");
      assertSyntaxError("G.V().Has('MTU', - 5)", 'at column 18', "a '-' must start a negative number");
    });

    it('line and column in multi-line queries', () => {
      const err = assertSyntaxError("G.V()\n  .Has('Type', 'veth')\n  .Outt()", 'at line 3, column 4', "near 'Outt'");
      assert.equal(err.line, 3);
      assert.equal(err.column, 4);
    });

    it('predicates used as steps, steps used as values, unknown names as values', () => {
      assertSyntaxError("G.V().Within('a')", 'Within is a predicate, not a step');
      assertSyntaxError("G.V().Has('Name', Out())", 'at column 19', 'Out is a step');
      assertSyntaxError("G.V().Has('Name', eth0)", "'eth0' is not a value", "expected a value: a 'string'");
    });

    it('predicates with the wrong arity or argument types', () => {
      assertSyntaxError("G.V().Has('MTU', Gt())", 'at column 18', 'Gt expects exactly 1 number, got 0 arguments');
      assertSyntaxError("G.V().Has('MTU', Gt('big'))", 'at column 21', "Gt compares numbers: expected a number, got string 'big'");
      assertSyntaxError("G.V().Has('MTU', Inside(1))", 'Inside expects exactly 2 numbers');
      assertSyntaxError("G.V().Has('MTU', Within())", 'Within expects at least 1 value');
      assertSyntaxError("G.V().Has('MTU', Within(Gt(1)))", 'takes plain values, not the predicate Gt');
      assertSyntaxError("G.V().Has('IPV4', Ipv4Range('10.0.0.0/33'))", 'Ipv4Range expects an IPv4 CIDR');
      assertSyntaxError("G.V().Has('Name', Ne(NOW))", 'NOW is not a value for Ne');
      assertSyntaxError("G.V().Has('', 1)", 'a key cannot be empty');
      assertSyntaxError(`G.V().Has('a', ${'Ne('.repeat(100000)}1${')'.repeat(100000)})`, 'at column 22', 'takes plain values, not the predicate Ne');
    });

    it('Regex with anchors or an invalid pattern, explaining why', () => {
      assertSyntaxError("G.V().Has('Name', Regex('^eth.*'))", 'at column 25', "near '^eth.*'", "always anchored", "remove the leading '^'");
      assertSyntaxError("G.V().Has('Name', Regex('eth.*$'))", "remove the trailing '$'");
      assertSyntaxError("G.V().Has('Name', Regex('eth('))", 'invalid regular expression');
    });

    it('predicates and keywords in the wrong place', () => {
      assertSyntaxError("G.V().Has('Name', Metadata('a', 'b'))", 'Metadata(...) is only valid as an argument of ShortestPathTo');
      assertSyntaxError("G.V().Has('Name', NOW)", 'at column 19', 'NOW is only valid in Context() / At()');
      assertSyntaxError("G.V().Has('Name', DESC)", 'DESC is only valid in Sort()');
      assertSyntaxError("G.V().Has(Within('a'), 'b')", 'expects a key (string) here');
      assertSyntaxError("G.V().ShortestPathTo('eth0')", "ShortestPathTo() expects the target node written Metadata('Key', value, ...)");
      assertSyntaxError("G.V().ShortestPathTo(Metadata('Name'))", 'Metadata expects key/value pairs');
    });

    it('steps with the wrong number or types of arguments', () => {
      assertSyntaxError('G.V().Has()', 'Has() expects a key, or key/value pairs');
      assertSyntaxError("G.V().Has('Type', 'veth', 'Name')", 'at column 27', "the key 'Name' has no value");
      assertSyntaxError('G.V().HasKey(1)', 'HasKey() expects a key (a quoted string), got number 1');
      assertSyntaxError("G.V().HasNot('a', 'b')", 'HasNot() expects exactly 1 key');
      assertSyntaxError('G.V(1)', 'V() with one argument looks up an ID');
      assertSyntaxError('G.V().Range(1)', 'Range() expects 2 integers');
      assertSyntaxError('G.V().Limit(-1)', 'Limit() expects the number of results as a non-negative integer');
      assertSyntaxError('G.V().Limit(1.5)', 'non-negative integer');
      assertSyntaxError('G.V().Count(1)', 'Count() takes no argument');
      assertSyntaxError('G.V().Sort(1)', 'Sort() expects an order (ASC or DESC) then a key');
      assertSyntaxError("G.V().Sort('Name', DESC)", 'Sort() takes the order first');
      assertSyntaxError('G.V().Values()', 'Values() expects exactly 1 key');
      assertSyntaxError("G.V().Descendants('RelationType', 'layer2', 'x')", 'Descendants() expects the depth');
      assertSyntaxError("G.Context('yesterday')", 'Context time must be an RFC1123 date');
      assertSyntaxError("G.Context(NOW, '-5m')", 'Context duration must be a positive duration');
      assertSyntaxError('G.Context()', 'Context() expects a time');
    });

    it('steps that cannot follow the previous one, with hints', () => {
      assertSyntaxError('G.E().Out()', 'at column 7', 'Out() cannot follow edges', 'use OutV() (the Child), InV() (the Parent)');
      assertSyntaxError('G.V().OutV()', 'OutV() cannot follow nodes', 'on nodes use Out()/In()/Both()');
      assertSyntaxError('G.V().V()', 'V() cannot follow nodes', 'right after G');
      assertSyntaxError('G.Has("Name")', 'Has() cannot follow the graph (G)');
      assertSyntaxError('G.V().Count().Out()', 'Out() cannot follow a value', 'must come before the step that produced the value');
      assertSyntaxError("G.V().Context('-1m')", 'Context() cannot follow nodes');
      assertSyntaxError("G.V().As('a').Select('b')", "no As() step saved this label before");
      assertSyntaxError("G.V().As('a').OutE().As('b').Select('a', 'b')", 'cannot mix labels');
    });

    it('names analyzer-only steps as such', () => {
      assertSyntaxError('G.V().Flows()', 'Flows() is not available here', "analyzer's API");
    });

    it('never throws anything but GremlinSyntaxError on garbage', () => {
      for (const q of ['G.', 'G..V()', 'G.V(((', 'G.V().Has(\'a\')))', 'GG', 'G.V().Has(Ne(1', '€', 'G.V().Has("a", Regex("["))']) {
        try {
          parseGremlin(q);
        } catch (err) {
          assert.ok(err instanceof GremlinSyntaxError, `${q}: ${String(err)}`);
          assert.match(err.message, /^Gremlin syntax error at column \d+ near /);
          continue;
        }
        assert.fail(`${q} was accepted`);
      }
    });
  });
});
