# Protocol probe for notebook 03 (throwaway research code, not run by the project): the synthetic hierarchy of
# docs/synthetic-hierarchy.md in PyTorch on a GPU, many seeds, several ways to transfer a pretrained body to
# the coarse target. Usage: python3 fine_to_coarse_protocol_probe.py P_HARD[,P_HARD] SEEDS LEVELS OUTDIR
# (e.g. 0.1,0.05 10 leaf,mid,rand_nested out). Results: docs/fine-to-coarse-protocol.md.
import numpy as np,torch,torch.nn as nn,torch.nn.functional as F,time,sys,json,itertools
dev='cuda';torch.backends.cudnn.benchmark=True
S,K,L,D=4,4,2,16
SG=[(1,-1,-1),(-1,1,-1),(-1,-1,1),(1,1,-1)]
def world(seed):
  r=np.random.default_rng(seed);acc=[]
  while len(acc)<S*K+D:
    p=(r.random(25)<.5).astype(np.int8);o=p.sum()
    if o<8 or o>17 or any((p!=q).sum()<6 for q in acc):continue
    acc.append(p)
  return np.array(acc).reshape(-1,5,5)
def sample(gl,n,ph,seed):
  r=np.random.default_rng(seed);leaf=r.integers(0,S*K,n);hard=r.random(n)<ph
  a=np.where(hard,0,r.uniform(.5,1,n));T=.15*np.array(SG,dtype=np.float32)
  x=np.full((n,3,32,32),.5,np.float32)+(a[:,None]*T[leaf//K])[:,:,None,None]
  st=np.where(gl>0,.35,-.35).astype(np.float32);can=np.zeros((n,32,32),np.float32)
  for i in range(n):
    for g in (leaf[i],S*K+r.integers(0,D)):
      y,z=r.integers(0,28,2);can[i,y:y+5,z:z+5]+=st[g]
  x+=can[:,None];x+=.1*r.standard_normal(x.shape).astype(np.float32)
  return torch.tensor(np.clip(x,0,1).astype(np.float32)).to(dev),torch.tensor(leaf).to(dev)
class Net(nn.Module):
  def __init__(s,c):
    super().__init__()
    s.b=nn.Sequential(nn.Conv2d(3,16,3,padding=1,bias=False),nn.BatchNorm2d(16),nn.ReLU(),nn.MaxPool2d(2),nn.Conv2d(16,32,3,padding=1,bias=False),nn.BatchNorm2d(32),nn.ReLU(),nn.MaxPool2d(2),nn.Conv2d(32,256,3,padding=1,bias=False),nn.BatchNorm2d(256),nn.ReLU())
    s.h=nn.Linear(256,c)
  def f(s,x):return s.b(x).amax((2,3))
  def forward(s,x):return s.h(s.f(x))
def train(m,x,y,ep,lr,seed,params=None,bn_eval=False):
  g=torch.Generator(device='cpu').manual_seed(seed)
  o=torch.optim.Adam(params if params is not None else m.parameters(),lr=lr)
  for e in range(ep):
    m.train()
    if bn_eval:
      for mod in m.b:
        if isinstance(mod,nn.BatchNorm2d):mod.eval()
    pm=torch.randperm(len(y),generator=g).to(dev)
    for i in range(0,len(y),64):
      j=pm[i:i+64];l=F.cross_entropy(m(x[j]),y[j]);o.zero_grad();l.backward();o.step()
def acc(m,x,y):
  m.eval()
  with torch.no_grad():return (m(x).argmax(1)==y).float().mean().item()*100
def feats(m,x):
  m.eval()
  with torch.no_grad():return torch.cat([m.f(x[i:i+1000]) for i in range(0,len(x),1000)])
def lp(fx,y,c,seed,ep=30):
  torch.manual_seed(seed);h=nn.Linear(256,c).to(dev);o=torch.optim.Adam(h.parameters(),lr=1e-2);g=torch.Generator().manual_seed(seed)
  for e in range(ep):
    pm=torch.randperm(len(y),generator=g).to(dev)
    for i in range(0,len(y),64):
      j=pm[i:i+64];l=F.cross_entropy(h(fx[j]),y[j]);o.zero_grad();l.backward();o.step()
  return h
def labels(name,leaf,seed):
  r=torch.Generator().manual_seed(seed+777);n=len(leaf);sup=leaf//K
  u=torch.randint(0,K,(n,),generator=r).to(dev)
  return {'coarse':(sup,S),'mid':(leaf//2,S*2),'leaf':(leaf,S*K),'rand_nested':(sup*K+u,S*K),'cross':(leaf%K,K)}[name]
import copy
res=[]
PH=[float(v) for v in sys.argv[1].split(',')];SEEDS=range(int(sys.argv[2]));LV=sys.argv[3].split(',')
t0=time.time()
for ph,seed in itertools.product(PH,SEEDS):
  gl=world(seed);xt,lt=sample(gl,4000,ph,seed*10+1);xe,le=sample(gl,2000,0,seed*10+2);xh,lh=sample(gl,2000,1,seed*10+3)
  yt,ye,yh=lt//K,le//K,lh//K
  def rec(lv,v,m):res.append(dict(ph=ph,seed=seed,level=lv,variant=v,easy=acc(m,xe,ye),hard=acc(m,xh,yh)))
  torch.manual_seed(seed);m=Net(S).to(dev);train(m,xt,yt,8,2e-3,seed);rec('coarse','baseline',m)
  for lv in LV:
    pl,c=labels(lv,lt,seed);torch.manual_seed(seed);pre=Net(c).to(dev);train(pre,xt,pl,6,2e-3,seed)
    sup_of=torch.zeros(c,S,device=dev).index_put_((pl,yt),torch.ones_like(pl,dtype=torch.float),accumulate=True).argmax(1)
    fx=feats(pre,xt);h=lp(fx,yt,S,seed)
    def mk(init):
      m=copy.deepcopy(pre);torch.manual_seed(seed+1);nh=nn.Linear(256,S).to(dev)
      with torch.no_grad():
        if init=='lp':nh.weight.copy_(h.weight);nh.bias.copy_(h.bias)
        if init in('sum','mean'):
          W=torch.zeros(S,256,device=dev).index_add_(0,sup_of,pre.h.weight);B=torch.zeros(S,device=dev).index_add_(0,sup_of,pre.h.bias)
          if init=='mean':cnt=torch.bincount(sup_of,minlength=S).clamp(min=1).float();W/=cnt[:,None];B/=cnt
          nh.weight.copy_(W);nh.bias.copy_(B)
      m.h=nh;return m
    m=mk('lp');rec(lv,'lp',m)
    m=mk('new');train(m,xt,yt,2,1e-3,seed);rec(lv,'ft',m)
    m=mk('sum');rec(lv,'sumhead_noft',m);train(m,xt,yt,2,1e-3,seed);rec(lv,'ft_sumhead',m)
    m=mk('mean');train(m,xt,yt,2,1e-3,seed);rec(lv,'ft_meanhead',m)
    m=mk('lp');train(m,xt,yt,2,1e-3,seed);rec(lv,'lpft',m)
    m=mk('lp');train(m,xt,yt,2,1e-4,seed);rec(lv,'lpft_lr1e-4',m)
    m=mk('sum');train(m,xt,yt,2,1e-4,seed);rec(lv,'ft_sumhead_lr1e-4',m)
    m=mk('new');train(m,xt,yt,2,1e-3,seed,params=[{'params':m.b.parameters(),'lr':1e-4},{'params':m.h.parameters(),'lr':1e-2}]);rec(lv,'ft_split',m)
    m=mk('new');train(m,xt,yt,2,1e-3,seed,bn_eval=True);rec(lv,'ft_bnfrozen',m)
    m=mk('lp');train(m,xt,yt,2,1e-3,seed,bn_eval=True);rec(lv,'lpft_bnfrozen',m)
  print(ph,seed,round(time.time()-t0),flush=True)
import pandas as pd
d=pd.DataFrame(res);d.to_csv(sys.argv[4]+'/probe.csv',index=False)
b=d[d.variant=='baseline'][['ph','seed','hard']].rename(columns={'hard':'base'})
d=d.merge(b,on=['ph','seed']);d['gain']=d.hard-d.base
pd.set_option('display.width',250);pd.set_option('display.max_rows',500)
print(d.groupby(['ph','level','variant']).agg(hard=('hard','mean'),sd=('hard','std'),mn=('hard','min'),gain=('gain','mean'),mingain=('gain','min'),wins=('gain',lambda g:(g>0).sum()),n=('gain','size'),easy=('easy','mean')).round(1).to_string())
