#!/usr/bin/env python3
"""Prints the README's edge-conventions table from the outputs of pytorch.py and chainrule.ts (see pytorch.py),
marking with † each cell where PyTorch differs, then the differing cells as (op, input, chainrule, PyTorch).
The † on maximum/minimum at (0, −0) is added by hand: the values differ only in the sign of zero."""
import json, math, os, tempfile
cases = json.loads(open(os.path.join(os.path.dirname(__file__), 'cases.json')).read().replace('-Infinity','"-inf"').replace('Infinity','"inf"').replace('NaN"','NaN"').replace(': [NaN]',': ["nan"]').replace('[NaN','["nan"').replace(', NaN',', "nan"'))
tmp = tempfile.gettempdir()
ours = json.load(open(os.path.join(tmp, 'edge-conventions-chainrule.json')))
pt = json.load(open(os.path.join(tmp, 'edge-conventions-pytorch.json')))
def num(v):
    if isinstance(v,str):
        return {"inf":"∞","-inf":"−∞","nan":"NaN"}.get(v,v)
    if v==0 and str(v).startswith('-'): return "−0"
    s = ("%g" % v).replace("-", "−")
    return s
def val(s):
    return {"inf":"∞","-inf":"−∞","nan":"NaN"}.get(s, None) or fmtf(float(s))
def fmtf(x):
    if x == 0: return "−0" if math.copysign(1,x)<0 else "0"
    if abs(x) >= 1e5 or abs(x) < 1e-3: return ("%.3g" % x).replace("e-0","e−").replace("e+","e").replace("e-","e−").replace("-","−")
    return ("%.4g" % x).replace("-","−")
def same(a,b):
    if a==b: return True
    try:
        x,y=float(a),float(b)
        if math.isnan(x) and math.isnan(y): return True
        return abs(x-y) <= 1e-9*(abs(x)+abs(y))
    except: return False
cols=["0","ties","±∞","NaN","domain"]
rows=[]; diffs=[]
for kind in ["unary","binary","reduce"]:
    for op, edges in cases[kind].items():
        cells=[]
        for c in cols:
            items=[]
            for i,args in enumerate(edges.get(c,[])):
                k=f"{op}|{c}|{i}"; o=ours[k]; t=pt[k]
                if kind=="unary": a=num(args)
                elif kind=="binary": a="("+", ".join(num(x) for x in args)+")"
                else: a="["+", ".join(num(x) for x in args)+"]"
                d = not all(same(x,y) for x,y in zip(o,t))
                item=f"{a} → {val(o[0])}; {', '.join(val(g) for g in o[1:])}"
                if d:
                    item += " †"
                    diffs.append((op, a, f"{val(o[0])}; {', '.join(val(g) for g in o[1:])}", f"{val(t[0])}; {', '.join(val(g) for g in t[1:])}"))
                items.append(item)
            cells.append("<br>".join(items) if items else "")
        rows.append(f"| `{op}` | " + " | ".join(cells) + " |")
print("| op | 0 | ties | ±∞ | NaN | domain edge, extremes |")
print("|---|---|---|---|---|---|")
print("\n".join(rows))
print()
for d in diffs: print(d)
